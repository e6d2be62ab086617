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
	// FunctionTimeout bounds every invocation; default host.json functionTimeout, else 5m.
	FunctionTimeout time.Duration
	// FunctionKey, when set, is required (?code= or x-functions-key) by authLevel function and
	// admin functions and by the admin API; "" disables key checks, as Core Tools does.
	FunctionKey string
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
	// DefaultFunctionTimeout is the Consumption plan's default functionTimeout.
	DefaultFunctionTimeout = 5 * time.Minute
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
