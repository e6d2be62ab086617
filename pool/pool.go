package pool

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/redis/go-redis/v9"
)

// Options carries what a Config cannot: code, not settings.
type Options struct {
	// Credential replaces the credential Config.CredentialKind would build. Any
	// azcore.TokenCredential works.
	Credential azcore.TokenCredential
	// Logger receives the pool's log lines; default slog.Default().
	Logger *slog.Logger
}

// Pool is the process-wide Redis client with Entra authentication that
// keeps every connection authenticated: it refreshes tokens ahead of expiry,
// re-authenticates idle connections itself after each new token (go-redis
// only does so for connections that pass through its pool), and retires any
// connection that still carries the old token at the re-authentication
// deadline, before Azure would close it. See doc.go for what remains true of
// pub/sub and of connections held outside the pool.
type Pool struct {
	cfg      Config
	log      *slog.Logger
	client   redis.UniversalClient
	provider *Provider // nil unless Auth is entra
	tracker  *tracker

	warmed  atomic.Bool
	warmErr atomic.Pointer[error]

	rotations chan [2]*Token
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New builds the pool. With Cluster auto it asks the server whether it is a
// cluster, bounded by ctx; if it cannot tell it uses a plain client and logs
// a warning (set REDIS_CLUSTER explicitly in Azure). New does not wait for a
// token or connections: call Warm for that.
func New(ctx context.Context, cfg Config, opts Options) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &Pool{cfg: cfg, log: opts.Logger, rotations: make(chan [2]*Token, 1)}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())

	if cfg.Auth == AuthEntra {
		cred := opts.Credential
		if cred == nil {
			var err error
			if cred, err = newCredential(cfg); err != nil {
				return nil, err
			}
		}
		prov := newProvider(cred, providerOptions{
			Scope: cfg.Scope, Username: cfg.Username, RefreshRatio: cfg.RefreshRatio,
			FetchTimeout: cfg.DialTimeout, Logger: p.log,
		})
		p.provider = prov
		prov.onRotate(p.rotated)
	}
	p.tracker = newTracker(func() (cur, prev *Token) {
		if p.provider == nil {
			return nil, nil
		}
		return p.provider.tokens()
	})
	dial, err := p.dialer()
	if err != nil {
		p.closeProvider()
		return nil, err
	}

	cluster := cfg.Cluster == ClusterOSS
	if cfg.Cluster == ClusterAuto {
		cluster, err = p.isCluster(ctx, dial)
		if err != nil {
			p.log.Warn("could not tell whether Redis is a cluster; using a plain client (set REDIS_CLUSTER=oss or none)", "error", err)
		}
	}
	p.client = p.newClient(cluster, dial)
	p.wg.Add(1)
	go p.reauthLoop()
	p.log.Info("redis pool created", "host", cfg.Addr, "auth", cfg.Auth, "tls", cfg.TLS, "cluster", cluster)
	return p, nil
}

// Client is the go-redis client. Use it for every command; it is safe for
// concurrent use and lives as long as the pool.
func (p *Pool) Client() redis.UniversalClient { return p.client }

// TokenProvider returns the pool's token provider (nil unless Auth is entra).
func (p *Pool) TokenProvider() *Provider { return p.provider }

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialer dials TCP, then TLS 1.2+ with SNI, and tracks the connection.
func (p *Pool) dialer() (dialFunc, error) {
	var tlsCfg *tls.Config
	if p.cfg.TLS {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		if p.cfg.TLSCAFile != "" {
			pem, err := os.ReadFile(p.cfg.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("REDIS_TLS_CA_FILE: %w", err)
			}
			roots, err := x509.SystemCertPool()
			if err != nil {
				roots = x509.NewCertPool()
			}
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("REDIS_TLS_CA_FILE %s: no PEM certificate found", p.cfg.TLSCAFile)
			}
			tlsCfg.RootCAs = roots
		}
	}
	d := &net.Dialer{Timeout: p.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, ErrRedisUnreachable.wrap(err)
		}
		if tlsCfg != nil {
			host, _, _ := net.SplitHostPort(addr)
			cfg := tlsCfg.Clone()
			cfg.ServerName = host
			tc := tls.Client(c, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, ErrRedisUnreachable.wrap(fmt.Errorf("TLS handshake with %s: %w", addr, err))
			}
			c = tc
		}
		return p.tracker.wrap(c), nil
	}, nil
}

// credentials returns the go-redis credential callback for the auth mode.
func (p *Pool) credentials() func(ctx context.Context) (string, string, error) {
	if p.provider != nil {
		return p.provider.Credentials
	}
	return nil
}

func (p *Pool) newClient(cluster bool, dial dialFunc) redis.UniversalClient {
	password := ""
	if p.cfg.Auth == AuthPassword {
		password = p.cfg.Password
	}
	if cluster {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: []string{p.cfg.Addr}, Dialer: dial, Password: password,
			CredentialsProviderContext: p.credentials(),
			PoolSize:                   p.cfg.PoolSize, MinIdleConns: p.cfg.MinIdleConns,
			DialTimeout: p.cfg.DialTimeout, ReadTimeout: p.cfg.ReadTimeout, WriteTimeout: p.cfg.WriteTimeout,
			PipelinePoolSize: -1,
		})
	}
	size := p.cfg.PoolSize
	if size == 0 {
		size = defaultPoolSize()
	}
	return redis.NewClient(&redis.Options{
		Addr: p.cfg.Addr, Dialer: dial, Password: password,
		CredentialsProviderContext: p.credentials(),
		PoolSize:                   size, MinIdleConns: p.cfg.MinIdleConns,
		DialTimeout: p.cfg.DialTimeout, ReadTimeout: p.cfg.ReadTimeout, WriteTimeout: p.cfg.WriteTimeout,
		// One pool to keep authenticated: pipelines use the main pool.
		PipelinePoolSize: -1,
	})
}

// defaultPoolSize is a plain client's pool size when REDIS_POOL_SIZE is unset: the most
// connections a default go-redis client opens, its 10 per CPU plus its separate pipeline pool
// (redis.DefaultPipelinePoolSize), which this pool folds into one so that one pool is kept
// authenticated. With only 10 per CPU, requests beyond that many in flight wait for a
// connection where a plain go-redis handler running transactions (a cache PUT) would have one.
func defaultPoolSize() int { return 10*runtime.GOMAXPROCS(0) + redis.DefaultPipelinePoolSize }

// isCluster asks the server (INFO cluster) whether cluster mode is on.
func (p *Pool) isCluster(ctx context.Context, dial dialFunc) (bool, error) {
	c := redis.NewClient(&redis.Options{
		Addr: p.cfg.Addr, Dialer: dial, Password: p.cfg.Password,
		CredentialsProviderContext: p.credentials(),
		PoolSize:                   1, MaxRetries: -1, PipelinePoolSize: -1,
		DialTimeout: p.cfg.DialTimeout, ReadTimeout: p.cfg.ReadTimeout, WriteTimeout: p.cfg.WriteTimeout,
	})
	defer c.Close()
	info, err := c.Info(ctx, "cluster").Result()
	if err != nil {
		return false, classify(err)
	}
	return strings.Contains(info, "cluster_enabled:1"), nil
}

// Warm gets a token and opens the configured minimum of idle connections,
// each answering PING, bounded by ctx. The first error is also kept for
// Health.
func (p *Pool) Warm(ctx context.Context) error {
	err := p.warm(ctx)
	if err != nil {
		err = classify(err)
		p.warmErr.Store(&err)
		c := ClassOf(err)
		p.log.Error("redis pool warm-up failed", "class", c.String(), "error", err, "advice", c.Advice())
		return err
	}
	p.warmErr.Store(nil)
	p.warmed.Store(true)
	p.log.Info("redis connection established", "host", p.cfg.Addr, "idle_conns", p.cfg.MinIdleConns)
	return nil
}

func (p *Pool) warm(ctx context.Context) error {
	p.log.Info("connecting to redis", "host", p.cfg.Addr)
	if p.provider != nil {
		if _, err := p.provider.Token(ctx); err != nil {
			return err
		}
	}
	return p.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		// The first connection goes through the client itself: go-redis
		// v9.23 settles its maintenance-notifications mode on the first
		// handshake by writing the options that every Conn() shares, without
		// a common lock; initializing several Conn()s first is a data race.
		if err := c.Ping(ctx).Err(); err != nil {
			return err
		}
		return borrow(ctx, c, p.cfg.MinIdleConns, stagger(ctx), func(cn *redis.Conn) error { return cn.Ping(ctx).Err() })
	})
}

// warmStagger is the window over which warm-up spreads its connections after the first: each
// waits a random delay within it, so that many instances starting together (a scale-out) do not
// open theirs in one spike, as Azure advises ("consider staggering the new connection
// creations", https://learn.microsoft.com/azure/redis/best-practices-server-load#avoid-client-connection-spikes).
// It is short because GET / (the host's readiness probe) waits for the warm-up: with 100 ms the
// handler is ready within about 150 ms of start (make bench, phase cold).
const warmStagger = 100 * time.Millisecond

// stagger is warmStagger, or half the time ctx has left when that is shorter.
func stagger(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(0, min(warmStagger, time.Until(d)/2))
	}
	return warmStagger
}

// eachNode runs f on the client, or on every node of a cluster.
func (p *Pool) eachNode(ctx context.Context, f func(ctx context.Context, c *redis.Client) error) error {
	switch c := p.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachShard(ctx, f)
	case *redis.Client:
		return f(ctx, c)
	}
	return fmt.Errorf("pool: unexpected client %T", p.client)
}

// borrow takes n connections out of c's pool at once (idle ones first),
// runs f on each, and only then returns them all, so that n concurrent
// borrows reach n distinct connections. With spread > 0 each borrow that
// must dial first waits a random delay below spread, so the dials of new
// connections are staggered rather than simultaneous; the idle ones are
// taken at once.
func borrow(ctx context.Context, c *redis.Client, n int, spread time.Duration, f func(cn *redis.Conn) error) error {
	conns := make([]*redis.Conn, n)
	errs := make([]error, n)
	idle := int(c.PoolStats().IdleConns)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if spread > 0 && i >= idle {
				t := time.NewTimer(rand.N(spread))
				defer t.Stop()
				select {
				case <-ctx.Done():
					errs[i] = ctx.Err()
					return
				case <-t.C:
				}
			}
			conns[i] = c.Conn()
			errs[i] = f(conns[i])
		})
	}
	wg.Wait()
	for _, cn := range conns {
		if cn != nil {
			cn.Close()
		}
	}
	return errors.Join(errs...)
}

// rotated is called by the provider with each new token.
func (p *Pool) rotated(old, next *Token) {
	if old == nil {
		return
	}
	select {
	case p.rotations <- [2]*Token{old, next}:
	default: // a re-authentication is pending; it will use the newest token
		select {
		case <-p.rotations:
		default:
		}
		p.rotations <- [2]*Token{old, next}
	}
}

// reauthLoop re-authenticates connections after each new token.
func (p *Pool) reauthLoop() {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case r := <-p.rotations:
			p.reauthenticate(r[0], r[1])
		}
	}
}

// reauthenticate brings every connection from old's token to tok: each
// connection re-authenticates in line with its next command (see the
// tracker); idle connections are borrowed and PINGed so that they have a
// next command (in passes, until none is left on an older token or no pass
// makes progress); at old's deadline whatever still carries an older token
// (pub/sub, connections held idle outside the pool) is closed.
func (p *Pool) reauthenticate(old, tok *Token) {
	_, deadline := plan(old, p.cfg.RefreshRatio)
	interval := clamp(old.Lifetime()/200, 10*time.Millisecond, 5*time.Second)
	p.tracker.reauth(tok)
	idle := 0
	for pass := 0; ; pass++ {
		stale := p.tracker.stale(tok.ExpiresOn)
		if stale == 0 {
			p.log.Debug("all connections re-authenticated", "passes", pass, "expires_on", tok.ExpiresOn)
			return
		}
		if !time.Now().Before(deadline) {
			n, busy := p.tracker.retire(tok.ExpiresOn)
			p.log.Info("retired connections still on the previous token at the re-authentication deadline",
				"retired", n, "busy", busy, "deadline", deadline)
			return
		}
		wait := interval
		if idle >= 3 {
			// Only connections go-redis holds outside the pool (pub/sub,
			// Conn(), blocking commands) are left: wait for the deadline.
			wait = time.Until(deadline)
		} else {
			ctx, cancel := context.WithTimeout(p.ctx, p.cfg.ReadTimeout+p.cfg.WriteTimeout)
			_ = p.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
				return borrow(ctx, c, int(c.PoolStats().IdleConns), 0, func(cn *redis.Conn) error { return cn.Ping(ctx).Err() })
			})
			cancel()
			if p.tracker.stale(tok.ExpiresOn) < stale {
				idle = 0
			} else {
				idle++
			}
		}
		timer := time.NewTimer(min(wait, time.Until(deadline)))
		select {
		case <-p.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// Close closes the client and stops every goroutine and timer of the pool.
// It is idempotent.
func (p *Pool) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.cancel()
		p.wg.Wait()
		err = p.client.Close()
		p.closeProvider()
	})
	return err
}

func (p *Pool) closeProvider() {
	if p.provider != nil {
		p.provider.Close()
	}
}
