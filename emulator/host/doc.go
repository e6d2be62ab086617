// Package host emulates the Azure Functions host driving a custom handler, so that end-to-end
// tests and `make run` exercise the handler the way the real host does. It follows the host's
// source (https://github.com/Azure/azure-functions-host, src/WebJobs.Script/Workers/Http and
// src/WebJobs.Script/Extensions/HttpRequestExtensions.cs above all) and, where the code is
// silent, the custom-handler docs
// (https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers), preferring the
// code where they disagree; tests name the source of each behaviour. It imports only the
// standard library and none of the project's packages: it stands in for a different program.
//
// # Reproduced
//
//   - host.json customHandler (or legacy httpWorker) with case-insensitive keys:
//     defaultExecutablePath (relative → app root only if the file exists there, else PATH),
//     arguments with %VAR% expansion from the environment, app settings and the host's own
//     variables (unresolved tokens deleted), joined with spaces and re-split (an argument with a
//     space becomes two), defaultWorkerPath quoted, workerArguments, workingDirectory (default
//     the app root, relative to it), enableForwardingHttpRequest, extensions.http.routePrefix,
//     functionTimeout (TimeSpan, "-1" unbounded, minimum 1 s).
//   - function.json indexing: name rule, at least one binding, unique names, authLevel
//     default function, methods, routes; invalid functions are logged and skipped; no functions
//     → the handler is never started.
//   - Launch: inherited environment + Config.Env + FUNCTIONS_CUSTOMHANDLER_PORT,
//     FUNCTIONS_HTTPWORKER_PORT, FUNCTIONS_CUSTOMHANDLER_WORKER_ID, FUNCTIONS_HTTPWORKER_ID
//     (a new GUID per process), FUNCTIONS_APP_ROOT_PATH; the port is picked once by binding
//     127.0.0.1:0 and reused by restarts.
//   - Readiness: GET / every 25 ms; any HTTP response is ready, a dial error means wait, another
//     transport error counts as ready; after InitTimeout the process is killed and the failure
//     counted.
//   - Exit codes: 0 → no restart, later invocations fail; 200 → restart, not counted; anything
//     else, a SIGKILL included → restart, counted. 3 counted failures within 30 minutes stop the
//     host (ErrHostStopped; HTTP callers then get 503). Invocations arriving while the handler
//     (re)starts wait up to (3+1) × InitTimeout.
//   - functionTimeout (default 30 minutes, as on Flex Consumption): the handler is killed (not
//     counted) and restarted; every in-flight call fails with an empty 500. The HTTP client
//     timeout is functionTimeout + 1 min.
//   - Payload mode (sections 3.1–3.3): POST /{FunctionName}, chunked JSON with
//     Content-Type application/json; charset=utf-8, User-Agent, X-Azure-Functions-HostVersion and
//     X-Azure-Functions-InvocationId; Data.req (Url, Method, Query, Headers as arrays, Params,
//     Identities, Body only when Content-Length > 0, base64 for octet-stream and multipart,
//     Headers including Transfer-Encoding, Url "{scheme}://{Host}{Path}{QueryString}");
//     Metadata (JSON body properties that are not arrays, query keys except code, route values,
//     Query, comma-joined Headers, sys); keys ending in "trigger" and nulls dropped. StyleHost
//     double-encodes strings and numbers as the code does; StyleDocs sends the docs' variant.
//   - Responses (sections 3.4–3.5): 2xx and an application/json or text/json content type are
//     required, else the client gets an empty 500 and Logs are dropped; top-level keys are
//     case-insensitive, Outputs keys case-sensitive; the base64 quirk on non-binary outputs and
//     $return (with .NET's whitespace-tolerant base64: "abcd efgh" is decoded too); arrays
//     become several messages; an object ReturnValue merges into Outputs without a $return
//     binding; http outputs: statusCode string or number, status ignored, headers ToString'd
//     (true → "True"), a null content-type fails, object bodies as indented JSON in source key
//     order, default text/plain; charset=utf-8; $return honours statusCode only with a body key.
//     Logs entries are logged at Info with the function name.
//   - Forwarding (section 4.1) for functions with exactly one httpTrigger input and one http
//     output: the path as new Uri(displayUrl).AbsolutePath gives it (decoded, re-escaped, %2F
//     kept), query rebuilt (repeated keys comma-joined, %20 for spaces), known methods in upper
//     case, headers copied including Host, host headers added (appended when the client sent
//     them), User-Agent appended, body and Content-Type only when Content-Length > 0 (a chunked
//     request fails the invocation with an empty 500: HttpClient refuses Transfer-Encoding:
//     chunked without content), redirects not followed, response passed through.
//   - Routing on Request.Path as Kestrel decodes it (every escape but %2F): /<routePrefix>/<route>
//     with literals (case-insensitive), one trailing slash ignored, {name}, {name?},
//     {name=default}, {*rest}, and the constraints int, long, bool, double/float/decimal, guid,
//     alpha, minlength, maxlength, length, min, max, range, regex; ASP.NET precedence (literal,
//     constrained, plain, catch-all). A method not in "methods" (compared case-insensitively) does
//     not match, so the client gets 404 (the host's router treats the method as a route
//     constraint). Routes starting with admin or runtime, and a route repeating another
//     function's for shared methods, are logged and not served. Unmatched paths get an empty 404.
//   - Limits: a body over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (default 100 MB) is an empty 500 in
//     both modes (the host masks Kestrel's 413); a URL over 4,096 bytes is 414.
//   - Keys when Config.FunctionKey or Config.MasterKey is set: function level needs a function
//     key or the master key, admin level and the admin API the master key (?code= or
//     x-functions-key), else 401; anonymous needs nothing. Identities carry the level (Function
//     or Admin).
//   - Config.FrontEnd puts App Service's front end in front: the host sees https (payload Url),
//     X-Forwarded-Proto, X-Forwarded-For, X-ARR-LOG-ID, DISGUISED-HOST and X-Waws-Unencoded-Url,
//     and a path the front end decoded, %2F included.
//   - Console: stdout lines at Info, stderr at Error or Warn when they contain "warn", category
//     Host.Function.Console; the LanguageWorkerConsoleLog and azfuncjsonlog: prefixes stripped;
//     the last 3 stderr lines go into the exit error.
//   - Shutdown: SIGKILL, wait up to 1 s; no graceful signal.
//   - Core Tools' admin API: POST /admin/functions/{name} {"input": …} (202, runs in the
//     background) and GET /admin/host/status.
//
// # Not reproduced
//
//   - enableProxyingHttpRequest (YARP proxying, retries, X-Forwarded-*), customHandler.port and
//     http.routes (2025+ host features), the "functions" allow-list, extension bundles and real
//     triggers or output bindings (outputs are returned in InvocationResult, not delivered).
//   - Complex route segments such as {a}.{b}; the HTTP 230 s front-end cap; RetryContext.
//   - Front-end headers beyond the documented ones above; the exact form of X-Forwarded-For
//     (the emulator sends the client IP without a port); .NET Uri's unescaping of unreserved
//     characters that reach it still escaped (only via a double-encoded %25).
//   - A handler that exits while the host still polls readiness is judged by its exit code at
//     once (the real host keeps polling until the window ends).
//   - An HTTP function whose handler sets no http output answers an empty 200 [inferred].
//   - Whether the base64 quirk applies to each element of an output array is not known: arrays
//     are passed through element by element without it.
//   - Host-side periodic GET / pings after start, and the host's own restart (all functions
//     reload) on host.json changes.
package host
