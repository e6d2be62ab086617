package host

import (
	"log/slog"
	"time"
)

// PayloadStyle selects how invocation payloads (sections 3.1–3.3 of the reference) are encoded.
type PayloadStyle int

const (
	// StyleHost encodes as the host's code does: strings and numbers in Data and Metadata are
	// JSON-serialized into a JSON string (double-encoded), and Data.req.Query is an object.
	StyleHost PayloadStyle = iota
	// StyleDocs encodes as the published docs show: values single-encoded and Data.req.Query
	// as a JSON string ("{}" when the query is empty).
	StyleDocs
)

// String names the style for logs and test names.
func (s PayloadStyle) String() string {
	if s == StyleDocs {
		return "docs"
	}
	return "host"
}

// Config configures a Host. The zero value of each field is documented next to it.
type Config struct {
	// Root is the script root: host.json and the function folders. It is also the handler's
	// default working directory and FUNCTIONS_APP_ROOT_PATH.
	Root string
	// Addr is the listen address of the public endpoint; default "127.0.0.1:7071".
	Addr string
	// Env holds app settings ("KEY=value") added to the inherited environment, like the Values
	// of local.settings.json.
	Env []string
	// Forwarding overrides host.json's enableForwardingHttpRequest; nil keeps what host.json says.
	Forwarding *bool
	// Style selects the payload encoding; default StyleHost.
	Style PayloadStyle
	// InitTimeout is the readiness window of each launch attempt; default 30s.
	InitTimeout time.Duration
	// FunctionTimeout bounds every invocation; default host.json functionTimeout, else
	// DefaultFunctionTimeout.
	FunctionTimeout time.Duration
	// FunctionKey and MasterKey, when either is set, turn key checks on (?code= or
	// x-functions-key), as in Azure: authLevel function accepts the function key or the master
	// key; authLevel admin and the admin API (/admin/…) accept only the master key. With both
	// empty nothing is checked, as in Core Tools.
	FunctionKey string
	// MasterKey is the host's admin key (_master); see FunctionKey.
	MasterKey string
	// FrontEnd puts an emulated App Service front end before the host, as every request in Azure
	// has one: it terminates TLS (the host sees https), adds its headers (X-Forwarded-Proto,
	// X-Forwarded-For, X-ARR-LOG-ID, DISGUISED-HOST, X-Waws-Unencoded-Url) and decodes the URL
	// path, %2F included. Off, the host is reached directly, as with Core Tools.
	FrontEnd bool
	// Logger receives the host's logs: handler stdout at Info, stderr at Error (Warn when the
	// line contains "warn"), invocation Logs at Info. Nil discards them.
	Logger *slog.Logger
}

// Defaults of the real host that the emulator reproduces.
const (
	// HostVersion is the host version the emulator claims in its headers.
	HostVersion = "4.1037.0"
	// DefaultAddr is where Core Tools listens.
	DefaultAddr = "127.0.0.1:7071"
	// DefaultInitTimeout is the host's initializationTimeout.
	DefaultInitTimeout = 30 * time.Second
	// DefaultFunctionTimeout is the default functionTimeout on every plan but Windows
	// Consumption, Flex Consumption included (ScriptJobHostOptionsSetup.DefaultFunctionTimeout in
	// Azure/azure-functions-host src/WebJobs.Script/Config/ScriptJobHostOptionsSetup.cs).
	DefaultFunctionTimeout = 30 * time.Minute
	// DefaultRequestBodyLimit is the host's request body limit when FUNCTIONS_REQUEST_BODY_SIZE_LIMIT
	// is not set (HttpRequestSizeMiddleware in Azure/azure-functions-host
	// src/WebJobs.Script.WebHost/Middleware, 104857600 bytes).
	DefaultRequestBodyLimit = 100 << 20
	// MaxURLBytes is the documented URL length limit of HTTP triggers, 4 KB
	// (https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#limits).
	MaxURLBytes = 4096
	// ReadinessInterval is how often GET / is polled while the handler starts.
	ReadinessInterval = 25 * time.Millisecond
	// RestartWindow is the window in which MaxFailures counted failures stop the host.
	RestartWindow = 30 * time.Minute
	// MaxFailures is how many counted failures within RestartWindow stop the host.
	MaxFailures = 3
	// IntentionalRestartExitCode is the exit code that asks for a restart without counting a failure.
	IntentionalRestartExitCode = 200
	// killWait is how long the host waits for a killed process to exit.
	killWait = time.Second
)
