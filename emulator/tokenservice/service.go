package tokenservice

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultTenantID is the tenant (tid claim, issuer path) when Config.TenantID is empty.
const DefaultTenantID = "72f988bf-0000-4000-8000-00000000f00d"

// DefaultSystemClientID is the system-assigned identity's client ID when Config leaves it empty.
const DefaultSystemClientID = "5a1e0000-0000-4000-8000-00000000c11e"

// DefaultSystemObjectID is the system-assigned identity's object ID when Config leaves it empty.
const DefaultSystemObjectID = "5a1e0000-0000-4000-8000-0000000000b1"

// DefaultLifetime is the token lifetime when Config.Lifetime is zero.
const DefaultLifetime = time.Hour

// DefaultReuseFraction is the share of a token's lifetime during which the
// endpoint hands it out again, when Config.ReuseFraction is zero.
const DefaultReuseFraction = 0.5

// DefaultAudience is the aud of correctly requested tokens when Config.Audience is empty.
const DefaultAudience = "https://redis.azure.com"

const (
	appServiceAPIVersion = "2019-08-01"
	appServiceTokenPath  = "/msi/token"
	imdsTokenPath        = "/metadata/identity/oauth2/token"
	identityHeaderName   = "X-IDENTITY-HEADER"
	jwksWellKnownPath    = "/.well-known/jwks.json"
	maxAdminBodyBytes    = 1 << 16
	readHeaderTimeout    = 10 * time.Second
	secretRandomBytes    = 24
	keyIDRandomBytes     = 16
)

// Config configures a Service. Zero values get documented defaults.
type Config struct {
	TenantID       string        // default: DefaultTenantID
	Lifetime       time.Duration // default 1h; rounded up to whole seconds
	ReuseFraction  float64       // the cached token is handed back until this fraction of its lifetime has passed; default 0.5
	SystemAssigned Identity      // the app's system-assigned identity (ClientID/ObjectID default to fixed GUIDs)
	Identities     []Identity    // user-assigned identities
	Secret         string        // the X-IDENTITY-HEADER value; default random
	Audience       string        // default "https://redis.azure.com"
	// OnIssue, when set, is called with each newly signed token (not with a
	// cached one handed back again) before it is served: a test can make a
	// bare redis-server accept it (ACL SETUSER <objectID> on ><token>),
	// where no gateway checks tokens.
	OnIssue func(objectID, token string, expiresOn time.Time)
}

// Service is an emulated managed-identity token endpoint. It is an http.Handler;
// Start serves it on a loopback address. All methods are safe for concurrent use.
type Service struct {
	tenantID string
	audience string
	secret   string
	reuse    float64
	key      *rsa.PrivateKey
	kid      string
	system   Identity
	onIssue  func(objectID, token string, expiresOn time.Time)
	closed   chan struct{}
	mux      *http.ServeMux

	mu         sync.Mutex
	lifetime   time.Duration
	identities []Identity
	fault      Fault
	cache      map[cacheKey]cachedToken
	stats      Stats
	srv        *http.Server
	ln         net.Listener
	closeOnce  sync.Once
	started    bool
	closing    bool
}

// New validates cfg, fills in defaults and generates an RSA-2048 signing key with
// a random key ID. The service answers requests through ServeHTTP at once; Start
// also serves it over HTTP.
func New(cfg Config) (*Service, error) {
	if cfg.Lifetime < 0 {
		return nil, fmt.Errorf("tokenservice: negative lifetime %v", cfg.Lifetime)
	}
	if cfg.ReuseFraction < 0 || cfg.ReuseFraction > 1 {
		return nil, fmt.Errorf("tokenservice: reuse fraction %v outside [0, 1]", cfg.ReuseFraction)
	}
	s := &Service{
		tenantID: orDefault(cfg.TenantID, DefaultTenantID),
		audience: orDefault(cfg.Audience, DefaultAudience),
		secret:   cfg.Secret,
		reuse:    cfg.ReuseFraction,
		lifetime: cfg.Lifetime,
		system: Identity{
			ClientID:   orDefault(cfg.SystemAssigned.ClientID, DefaultSystemClientID),
			ObjectID:   orDefault(cfg.SystemAssigned.ObjectID, DefaultSystemObjectID),
			ResourceID: cfg.SystemAssigned.ResourceID,
		},
		onIssue: cfg.OnIssue,
		closed:  make(chan struct{}),
		cache:   make(map[cacheKey]cachedToken),
		stats:   newStats(),
	}
	if s.reuse == 0 {
		s.reuse = DefaultReuseFraction
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultLifetime
	}
	for _, id := range cfg.Identities {
		if id.ClientID == "" || id.ObjectID == "" {
			return nil, fmt.Errorf("tokenservice: identity %+v needs a client ID and an object ID", id)
		}
		s.identities = append(s.identities, id)
	}
	var err error
	if s.secret == "" {
		if s.secret, err = randomHex(secretRandomBytes); err != nil {
			return nil, err
		}
	}
	if s.kid, err = randomHex(keyIDRandomBytes); err != nil {
		return nil, err
	}
	if s.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, fmt.Errorf("tokenservice: generate signing key: %w", err)
	}
	s.mux = s.routes()
	return s, nil
}

// Start listens on addr (a loopback address such as "127.0.0.1:0") and serves the
// service over HTTP in the background until Close.
func (s *Service) Start(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("tokenservice: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("tokenservice: address %q is not a loopback IP address", addr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errors.New("tokenservice: service is closed")
	}
	if s.started {
		return errors.New("tokenservice: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("tokenservice: listen: %w", err)
	}
	s.started = true
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: readHeaderTimeout}
	go s.srv.Serve(ln) //nolint:errcheck // Serve always returns ErrServerClosed after Close.
	return nil
}

// Close stops serving, ends requests held by a Hang fault and closes every
// connection. It is idempotent.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		srv := s.srv
		s.mu.Unlock()
		// Connections first, so that a held request cannot slip out an answer.
		if srv != nil {
			err = srv.Close()
		}
		close(s.closed)
	})
	return err
}

// URL returns the base URL, "http://127.0.0.1:port", or "" before Start.
func (s *Service) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Endpoint returns the value for IDENTITY_ENDPOINT: URL() + "/msi/token".
func (s *Service) Endpoint() string { return s.URL() + appServiceTokenPath }

// IMDSEndpoint returns the URL of the IMDS-shaped token endpoint.
func (s *Service) IMDSEndpoint() string { return s.URL() + imdsTokenPath }

// JWKSURL returns the URL of the JSON Web Key Set that publishes the signing key.
func (s *Service) JWKSURL() string { return s.URL() + jwksWellKnownPath }

// Secret returns the value for IDENTITY_HEADER, which requests must send as X-IDENTITY-HEADER.
func (s *Service) Secret() string { return s.secret }

// TenantID returns the tenant the tokens are issued in (their tid claim).
func (s *Service) TenantID() string { return s.tenantID }

// Issuer returns the tokens' iss claim, "https://sts.windows.net/<tenant>/".
func (s *Service) Issuer() string { return "https://sts.windows.net/" + s.tenantID + "/" }

// Audience returns the audience of correctly requested tokens.
func (s *Service) Audience() string { return s.audience }

// SystemAssigned returns the app's system-assigned identity.
func (s *Service) SystemAssigned() Identity { return s.system }

// AddIdentity assigns a user-assigned identity to the app, replacing one with the
// same client ID.
func (s *Service) AddIdentity(id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, have := range s.identities {
		if strings.EqualFold(have.ClientID, id.ClientID) {
			s.identities[i] = id
			return
		}
	}
	s.identities = append(s.identities, id)
}

// SetLifetime changes the lifetime of tokens issued from now on and drops the
// cached tokens, so the next request gets a token with the new lifetime. A
// non-positive d restores the default.
func (s *Service) SetLifetime(d time.Duration) {
	if d <= 0 {
		d = DefaultLifetime
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
	clear(s.cache)
}

// lookup finds the identity sel names; ok is false when the app has none such.
func (s *Service) lookup(sel selector) (Identity, bool) {
	if sel.empty() {
		return s.system, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range append([]Identity{s.system}, s.identities...) {
		if sel.matches(id) {
			return id, true
		}
	}
	return Identity{}, false
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// newGUID returns a random version-4 UUID, the form of Azure's correlation IDs.
func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tokenservice: random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}
