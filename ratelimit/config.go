package ratelimit

import (
	"fmt"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// maxWindow is the longest window a request or RATELIMIT_WINDOW may set.
const maxWindow = 24 * time.Hour

// Config holds the ratelimit function's settings, read with envconfig.
type Config struct {
	// Limit is the number of requests admitted per window when the request
	// does not say (RATELIMIT_LIMIT); default 10.
	Limit int `envconfig:"RATELIMIT_LIMIT" default:"10"`
	// Window is the sliding window when the request does not say
	// (RATELIMIT_WINDOW); default 1m.
	Window time.Duration `envconfig:"RATELIMIT_WINDOW" default:"1m"`
	// MaxLimit bounds ?limit= (RATELIMIT_MAX_LIMIT): each admitted request is
	// a sorted-set member until it leaves the window; default 1000.
	MaxLimit int `envconfig:"RATELIMIT_MAX_LIMIT" default:"1000"`
	// KeyPrefix is prepended to every key in Redis (RATELIMIT_KEY_PREFIX);
	// default "ratelimit:".
	KeyPrefix string `envconfig:"RATELIMIT_KEY_PREFIX" default:"ratelimit:"`
}

// DefaultConfig returns the defaults envconfig would apply.
func DefaultConfig() Config {
	return Config{Limit: 10, Window: time.Minute, MaxLimit: 1000, KeyPrefix: "ratelimit:"}
}

// LoadConfig reads a Config from the environment (the defaults for unset settings) and
// validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("ratelimit settings: %w", err)
	}
	return c, c.Validate()
}

// Validate reports invalid settings, naming each.
func (c Config) Validate() error {
	var errs []string
	if c.MaxLimit < 1 {
		errs = append(errs, "RATELIMIT_MAX_LIMIT must be at least 1")
	}
	if c.Limit < 1 || c.Limit > c.MaxLimit {
		errs = append(errs, "RATELIMIT_LIMIT must be between 1 and RATELIMIT_MAX_LIMIT")
	}
	if c.Window < time.Millisecond || c.Window > maxWindow {
		errs = append(errs, "RATELIMIT_WINDOW must be between 1ms and 24h")
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		errs = append(errs, "RATELIMIT_KEY_PREFIX must not contain '{' or '}' (they are Redis cluster hash tags)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("ratelimit: invalid settings: %s", strings.Join(errs, "; "))
	}
	return nil
}
