// Package tokenservice is a local stand-in for the managed-identity token endpoint
// that Azure Functions (App Service) gives an app, backed by an emulated Entra ID
// token issuer.
//
// # Protocol
//
// The main endpoint speaks the App Service managed-identity protocol, api-version
// 2019-08-01, exactly as azidentity v1.15 / MSAL Go v1.10 send it when both
// IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
//
//	GET <Endpoint()>?api-version=2019-08-01&resource=https%3A%2F%2Fredis.azure.com[&client_id=…|&mi_res_id=…|&object_id=…]
//	X-IDENTITY-HEADER: <Secret()>
//
//	200 {"access_token":"<JWT>","expires_on":"<unix seconds>","resource":"…","token_type":"Bearer","client_id":"…"}
//
// Without a selector the system-assigned identity answers; client_id, mi_res_id,
// object_id (and its older alias principal_id) select a user-assigned identity.
// Errors have the real endpoint's JSON shape:
// {"statusCode":400,"message":"Unable to load the proper Managed Identity.","correlationId":"…"}
// for an identity the app does not have.
//
// The IMDS shape (GET /metadata/identity/oauth2/token with "Metadata: true") is
// answered too, so a token request written by hand with curl works against the emulator. It returns
// IMDS's fields (expires_in, expires_on, not_before as strings) and IMDS's errors
// ({"error":"bad_request_102",…} without the header, {"error":"invalid_request",
// "error_description":"Identity not found"} for an unknown identity).
//
// Tokens are RS256 JWTs signed by a key generated at New; JWKSURL (and the Entra
// path /<tenant>/discovery/v2.0/keys) publishes it. Like the real endpoint, the
// service hands back the same cached token until Config.ReuseFraction of its
// lifetime has passed. Faults (outage, refused connections, hangs, slowness,
// unknown identity, wrong audience) are switched on with SetFault or
// POST /admin/fault; GET /admin/stats returns the counters.
//
// # Deviations from Azure
//
//   - Plain HTTP on 127.0.0.1; Start refuses other addresses.
//   - Tokens carry iat = nbf = issue time and exp = iat + lifetime (whole seconds,
//     at least one); Entra back-dates iat and nbf by five minutes and varies the
//     lifetime. Claims are a subset of Entra's v1 access-token claims.
//   - A token is issued for whatever resource is asked for; a resource equal to
//     Config.Audience apart from a trailing slash gets exactly Config.Audience as aud.
//   - The status and body for a missing or wrong X-IDENTITY-HEADER (401 with the
//     statusCode/message/correlationId shape) are inferred, not observed; the
//     unknown-identity body and the empty-bodied 500 are copied from real answers
//     quoted in public issue reports.
//   - Fault "refuse" resets the accepted TCP connection without an answer; the client
//     sees a reset or EOF rather than ECONNREFUSED at dial time.
package tokenservice
