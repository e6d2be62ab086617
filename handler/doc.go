// Package handler adapts plain net/http handlers to the Azure Functions custom-handler protocol.
//
// An App reads host.json and every <folder>/function.json under the script root, and serves the
// two ways the Functions host talks to a custom handler:
//
//   - Payload mode (the default, and always for non-HTTP triggers or HTTP functions with extra
//     bindings): the host POSTs /<FunctionName> with {"Data":…,"Metadata":…}. The App rebuilds the
//     original *http.Request from Data[<trigger>], runs the function's http.Handler against a
//     recorder, and answers 200 application/json with the HTTP output in Outputs and the
//     invocation's log lines in Logs — also when the function fails, so Logs are never lost.
//   - Forwarded mode (host.json customHandler.enableForwardingHttpRequest or
//     enableProxyingHttpRequest): the host sends the original request on its original
//     /<routePrefix>/<route> path, and the App routes it from the function.json routes as the
//     host's ASP.NET Core router does: literal segments case-insensitively, one trailing slash
//     ignored, %2F kept inside its segment (r.PathValue returns it unescaped), methods compared
//     case-insensitively, precedence literal > constrained > plain parameter > catch-all.
//
// In both modes route parameters are read with r.PathValue, invocation logs are written with Log,
// and errors are RFC 9457 problem details (WriteProblem) with a stable type per failure class.
// Each invocation ends with one "invocation" log line (function, invocation_id, mode, method,
// status, duration) at Debug level, or at Warn for a server error: the host records every
// invocation's status and duration itself (host.json's Host.Results), so at the default level a
// successful request writes nothing.
//
// GET / is the host's readiness probe: it answers once Options.Ready is closed or
// Options.WarmupTimeout has passed since New, whichever comes first, and at once ever after.
//
// Limits, stated once:
//   - Payload mode cannot carry a response body that is not valid UTF-8 (the host writes the JSON
//     string body as-is); such a response is replaced by a 500 problem of type
//     ProblemType("binary-body-unsupported"). Serve binary content in forwarded mode.
//   - In payload mode a header with several values is sent as one comma-joined string (the host
//     accepts only string header values), so several Set-Cookie headers cannot be represented.
//
// Part of funcredis's stable public API (README, "Public API"): apps made by funcredis new
// compile against it.
package handler
