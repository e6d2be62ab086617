package pool

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Auth modes for Config.Auth.
const (
	AuthEntra    = "entra"
	AuthPassword = "password"
	AuthNone     = "none"
)

// Cluster modes for Config.Cluster.
const (
	ClusterAuto = "auto"
	ClusterOSS  = "oss"
	ClusterNone = "none"
)

// Credential kinds for Config.CredentialKind.
const (
	CredentialManagedIdentity   = "managedidentity"
	CredentialWorkloadIdentity  = "workloadidentity"
	CredentialClientSecret      = "clientsecret"
	CredentialClientCertificate = "clientcertificate"
	CredentialAzureCLI          = "azurecli"
	CredentialDefault           = "default"
)

// DefaultScope is the Entra scope of Azure Redis tokens.
const DefaultScope = "https://redis.azure.com/.default"

// Config configures a Pool. Every field has an environment setting (its
// envconfig tag) and a documented zero value, so Config{Addr: "…"} works;
// the defaults are applied in one place, withDefaults (TLS, whose zero value
// is false, is the one default in a tag).
type Config struct {
	// Addr is the Redis host:port (REDIS_HOST). Azure Managed Redis:
	// <name>.<region>.redis.azure.net:10000. Required.
	Addr string `envconfig:"REDIS_HOST" required:"true"`
	// Auth is entra (default), password or none (REDIS_AUTH).
	Auth string `envconfig:"REDIS_AUTH"`
	// Password is used when Auth is password (REDIS_PASSWORD).
	Password string `envconfig:"REDIS_PASSWORD"`
	// TLS turns TLS 1.2+ with SNI on (REDIS_TLS). LoadConfig defaults it to
	// true; a Config literal must set it.
	TLS bool `envconfig:"REDIS_TLS" default:"true"`
	// TLSCAFile is a PEM file of an extra CA to trust (REDIS_TLS_CA_FILE),
	// e.g. the local gateway's.
	TLSCAFile string `envconfig:"REDIS_TLS_CA_FILE"`
	// AllowPlaintext permits plaintext to a non-loopback host
	// (REDIS_ALLOW_PLAINTEXT). Tokens are credentials: default false.
	AllowPlaintext bool `envconfig:"REDIS_ALLOW_PLAINTEXT"`
	// Cluster is auto (default: ask the server), oss (cluster client; AMR's
	// OSS clustering policy) or none (AMR Enterprise and Non-clustered
	// policies) (REDIS_CLUSTER).
	Cluster string `envconfig:"REDIS_CLUSTER"`

	// CredentialKind selects the azidentity credential the pool builds
	// (REDIS_CREDENTIAL): managedidentity (default), workloadidentity,
	// clientsecret, clientcertificate, azurecli or default (the
	// DefaultAzureCredential chain). Options.Credential replaces it.
	CredentialKind string `envconfig:"REDIS_CREDENTIAL"`
	// ClientID selects a user-assigned managed identity by client ID, or is
	// the service principal's client ID (AZURE_CLIENT_ID).
	ClientID string `envconfig:"AZURE_CLIENT_ID"`
	// IdentityResourceID selects a user-assigned managed identity by ARM
	// resource ID (REDIS_IDENTITY_RESOURCE_ID).
	IdentityResourceID string `envconfig:"REDIS_IDENTITY_RESOURCE_ID"`
	// IdentityObjectID selects a user-assigned managed identity by object
	// (principal) ID (REDIS_IDENTITY_OBJECT_ID).
	IdentityObjectID string `envconfig:"REDIS_IDENTITY_OBJECT_ID"`
	// Username overrides the Redis user name (REDIS_USERNAME); default: the
	// token's oid claim.
	Username string `envconfig:"REDIS_USERNAME"`
	// Scope is the token scope (REDIS_TOKEN_SCOPE); default DefaultScope.
	Scope string `envconfig:"REDIS_TOKEN_SCOPE"`
	// RefreshRatio is the share of a token's lifetime after which a new one
	// is asked for (REDIS_TOKEN_REFRESH_RATIO, 0 < r < 1); default 0.75. The
	// pool never asks before azidentity would return a new token (RefreshOn,
	// else 5 minutes before expiry) and always early enough to re-AUTH every
	// connection 3 minutes before expiry.
	RefreshRatio float64 `envconfig:"REDIS_TOKEN_REFRESH_RATIO"`

	// PoolSize is the maximum number of connections (REDIS_POOL_SIZE), per
	// node in a cluster. Default: 10 per CPU plus 10, the most a default
	// go-redis client opens (its pool and its pipeline pool, which this pool
	// folds into one); in a cluster go-redis's 5 per CPU per node.
	PoolSize int `envconfig:"REDIS_POOL_SIZE"`
	// MinIdleConns is how many connections Warm opens and the pool keeps
	// (REDIS_MIN_IDLE_CONNS); default 2.
	MinIdleConns int `envconfig:"REDIS_MIN_IDLE_CONNS"`
	// DialTimeout bounds a dial including TLS, and a dial's wait for a token
	// when none is valid (REDIS_DIAL_TIMEOUT); default 5s.
	DialTimeout time.Duration `envconfig:"REDIS_DIAL_TIMEOUT"`
	// ReadTimeout (REDIS_READ_TIMEOUT); default 3s.
	ReadTimeout time.Duration `envconfig:"REDIS_READ_TIMEOUT"`
	// WriteTimeout (REDIS_WRITE_TIMEOUT); default 3s.
	WriteTimeout time.Duration `envconfig:"REDIS_WRITE_TIMEOUT"`
}

// LoadConfig reads a Config from the environment, validates it and fills
// in the defaults.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("pool settings: %w", err)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c.withDefaults(), nil
}

// Validate reports invalid settings, naming each setting and its allowed values.
func (c Config) Validate() error {
	var errs []error
	oneOf := func(name, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		errs = append(errs, fmt.Errorf("%s=%q is not valid; allowed: %s", name, v, strings.Join(allowed, ", ")))
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if c.Addr == "" {
		errs = append(errs, errors.New("REDIS_HOST is required (host:port, e.g. <name>.<region>.redis.azure.net:10000)"))
	} else if err != nil {
		errs = append(errs, fmt.Errorf("REDIS_HOST=%q is not host:port: %w", c.Addr, err))
	}
	oneOf("REDIS_AUTH", c.withDefaults().Auth, AuthEntra, AuthPassword, AuthNone)
	oneOf("REDIS_CLUSTER", c.withDefaults().Cluster, ClusterAuto, ClusterOSS, ClusterNone)
	oneOf("REDIS_CREDENTIAL", c.withDefaults().CredentialKind, CredentialManagedIdentity, CredentialWorkloadIdentity,
		CredentialClientSecret, CredentialClientCertificate, CredentialAzureCLI, CredentialDefault)
	if c.Auth == AuthPassword && c.Password == "" {
		errs = append(errs, errors.New("REDIS_PASSWORD is required when REDIS_AUTH=password"))
	}
	if n := countSet(c.ClientID, c.IdentityResourceID, c.IdentityObjectID); n > 1 && c.withDefaults().CredentialKind == CredentialManagedIdentity {
		errs = append(errs, errors.New("set only one of AZURE_CLIENT_ID, REDIS_IDENTITY_RESOURCE_ID, REDIS_IDENTITY_OBJECT_ID to select the managed identity"))
	}
	if c.RefreshRatio != 0 && (c.RefreshRatio <= 0 || c.RefreshRatio >= 1) {
		errs = append(errs, fmt.Errorf("REDIS_TOKEN_REFRESH_RATIO=%v is not valid; allowed: a number between 0 and 1 (default 0.75)", c.RefreshRatio))
	}
	for name, v := range map[string]int{"REDIS_POOL_SIZE": c.PoolSize, "REDIS_MIN_IDLE_CONNS": c.MinIdleConns} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s=%d is not valid; allowed: 0 (default) or more", name, v))
		}
	}
	if c.PoolSize > 0 && c.MinIdleConns > c.PoolSize {
		errs = append(errs, fmt.Errorf("REDIS_MIN_IDLE_CONNS=%d exceeds REDIS_POOL_SIZE=%d", c.MinIdleConns, c.PoolSize))
	}
	for name, v := range map[string]time.Duration{"REDIS_DIAL_TIMEOUT": c.DialTimeout, "REDIS_READ_TIMEOUT": c.ReadTimeout, "REDIS_WRITE_TIMEOUT": c.WriteTimeout} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s=%s is not valid; allowed: a positive duration such as 3s", name, v))
		}
	}
	if err == nil && c.Addr != "" && !c.TLS && !c.AllowPlaintext && !isLoopback(host) && c.withDefaults().Auth != AuthNone {
		errs = append(errs, fmt.Errorf("REDIS_TLS=false to the non-loopback host %q would send credentials in plaintext; "+
			"use TLS (Azure Managed Redis requires it) or set REDIS_ALLOW_PLAINTEXT=true", host))
	}
	return errors.Join(errs...)
}

func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withDefaults fills the documented zero values.
func (c Config) withDefaults() Config {
	if c.Auth == "" {
		c.Auth = AuthEntra
	}
	if c.Cluster == "" {
		c.Cluster = ClusterAuto
	}
	if c.CredentialKind == "" {
		c.CredentialKind = CredentialManagedIdentity
	}
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	if c.RefreshRatio == 0 {
		c.RefreshRatio = 0.75
	}
	if c.MinIdleConns == 0 {
		c.MinIdleConns = 2
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 3 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 3 * time.Second
	}
	return c
}
