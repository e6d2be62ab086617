package gateway

import (
	"crypto/rsa"
	"errors"
	"time"
)

// Config configures a Gateway.
type Config struct {
	// Backend is the redis-server's host:port.
	Backend string
	// BackendPassword is the backend default user's password (requirepass).
	// The gateway uses it on one admin connection to manage ACL users.
	BackendPassword string
	// Issuer is the required "iss" claim, e.g. https://sts.windows.net/<tenant>/.
	Issuer string
	// Keys are the token-signing keys by "kid". A token without a kid is
	// accepted when Keys holds exactly one key. Either Keys or JWKSURL is
	// required.
	Keys map[string]*rsa.PublicKey
	// JWKSURL is fetched for signing keys when Keys is empty; it is fetched
	// again (at most every JWKSRefresh) when a token names an unknown kid.
	JWKSURL string
	// TLS makes the gateway serve TLS with a certificate for 127.0.0.1 and
	// localhost, signed by a CA it generates.
	TLS bool
	// CAFile is where the CA certificate (PEM) is written when TLS is on.
	// Empty: a temporary file, removed by Close.
	CAFile string
	// RoundTrip is the network's round-trip time between clients and the gateway; see
	// Gateway.SetRoundTrip. Zero: loopback as it is.
	RoundTrip time.Duration
	// ClockSkew is the leeway for nbf and exp when verifying a token. Zero
	// (the default) is strict, like Azure. Connections are closed at exp
	// regardless.
	ClockSkew time.Duration
}

// Audiences are the accepted "aud" claims: Azure Managed Redis's resource URI,
// with or without the trailing slash, and its application ID.
var Audiences = []string{
	"https://redis.azure.com",
	"https://redis.azure.com/",
	"acca5fbb-b7e4-4009-81f1-37e38fd66d78",
}

const (
	// jwksRefresh is the minimum time between two JWKS fetches.
	jwksRefresh = 5 * time.Second
	// backendDialTimeout bounds the dial of a backend connection.
	backendDialTimeout = 5 * time.Second
	// adminTimeout bounds one ACL command on the admin connection.
	adminTimeout = 5 * time.Second
)

func (c Config) validate() error {
	switch {
	case c.Backend == "":
		return errors.New("gateway: Config.Backend is required")
	case c.Issuer == "":
		return errors.New("gateway: Config.Issuer is required")
	case len(c.Keys) == 0 && c.JWKSURL == "":
		return errors.New("gateway: Config.Keys or Config.JWKSURL is required")
	case c.ClockSkew < 0:
		return errors.New("gateway: Config.ClockSkew is negative")
	}
	return nil
}
