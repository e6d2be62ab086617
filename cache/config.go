package cache

import (
	"fmt"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// maxKeyBytes is the longest key, in bytes, that the functions accept.
const maxKeyBytes = 256

// Config holds the cache function's settings, read with envconfig.
type Config struct {
	// KeyPrefix is prepended to every key in Redis (CACHE_KEY_PREFIX); default "cache:".
	KeyPrefix string `envconfig:"CACHE_KEY_PREFIX" default:"cache:"`
	// MaxValueBytes bounds a value and a batch request body (CACHE_MAX_VALUE_BYTES); default 1 MiB.
	MaxValueBytes int64 `envconfig:"CACHE_MAX_VALUE_BYTES" default:"1048576"`
	// MaxTTL is the longest TTL a client may ask for (CACHE_MAX_TTL); default 30 days.
	MaxTTL time.Duration `envconfig:"CACHE_MAX_TTL" default:"720h"`
	// MaxBatch is the most keys one batch request may name (CACHE_MAX_BATCH); default 100.
	MaxBatch int `envconfig:"CACHE_MAX_BATCH" default:"100"`
}

// DefaultConfig returns the defaults envconfig would apply.
func DefaultConfig() Config {
	return Config{KeyPrefix: "cache:", MaxValueBytes: 1 << 20, MaxTTL: 30 * 24 * time.Hour, MaxBatch: 100}
}

// LoadConfig reads a Config from the environment (the defaults for unset settings) and
// validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("cache settings: %w", err)
	}
	return c, c.Validate()
}

// Validate reports invalid settings, naming each.
func (c Config) Validate() error {
	var errs []string
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		errs = append(errs, "CACHE_KEY_PREFIX must not contain '{' or '}' (they are Redis cluster hash tags)")
	}
	if c.MaxValueBytes < 1 {
		errs = append(errs, "CACHE_MAX_VALUE_BYTES must be at least 1")
	}
	if c.MaxTTL < time.Second {
		errs = append(errs, "CACHE_MAX_TTL must be at least 1s")
	}
	if c.MaxBatch < 1 {
		errs = append(errs, "CACHE_MAX_BATCH must be at least 1")
	}
	if len(errs) > 0 {
		return fmt.Errorf("cache: invalid settings: %s", strings.Join(errs, "; "))
	}
	return nil
}
