package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/redis/go-redis/v9/auth"
)

// providerOptions configures a Provider. The zero value is usable: a zero
// field gets the default of the Config field it comes from.
type providerOptions struct {
	// Scope of the tokens: Config.Scope.
	Scope string
	// Username overrides the user name; default the token's oid claim.
	Username string
	// RefreshRatio: Config.RefreshRatio.
	RefreshRatio float64
	// FetchTimeout bounds how long a new connection waits for a token when
	// none is valid (cold start, or after expiry): Config.DialTimeout.
	FetchTimeout time.Duration
	// Logger receives the token log lines (acquired, refreshed, acquisition
	// failed); default slog.Default().
	Logger *slog.Logger
}

// Provider turns an azcore.TokenCredential into Redis credentials. It keeps
// the current token, refreshes it on the schedule described at plan, retries
// failures forever with backoff, and hands the current valid token to new
// connections without waiting for a refresh in flight.
//
// It is a go-redis auth.StreamingCredentialsProvider (Subscribe/OnNext) and
// also serves go-redis's CredentialsProviderContext (Credentials), which is
// what Pool uses. It never calls a listener's OnError: go-redis closes every
// connection on OnError, and a failing identity endpoint is no reason to drop
// connections whose token is still valid.
type Provider struct {
	cred azcore.TokenCredential
	opts providerOptions
	log  *slog.Logger

	mu        sync.Mutex
	tok       *Token // current token; nil before the first
	prev      *Token // the token before it
	call      *fetchCall
	next      time.Time // when the refresh loop asks next
	deadline  time.Time // by when connections must carry the current token's successor
	failures  int
	lastErr   error
	lastErrAt time.Time
	lastOK    time.Time
	listeners map[auth.CredentialsListener]uint64 // → seq of the token last given to it
	rotations []func(old, next *Token)

	stats providerStats

	kick      chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

type providerStats struct {
	acquired   atomic.Int64 // new tokens installed
	failures   atomic.Int64 // failed token requests
	refreshErr atomic.Int64 // failed requests while a token was held (refresh failures)
	duplicates atomic.Int64 // requests that returned the token already held
	notified   atomic.Int64 // OnNext calls
}

// fetchCall is one token request shared by everyone who needs it.
type fetchCall struct {
	done chan struct{}
	tok  *Token
	err  error
}

// newProvider starts a Provider: its refresh loop asks for the first token at
// once. Close stops it.
func newProvider(cred azcore.TokenCredential, opts providerOptions) *Provider {
	defaults := Config{}.withDefaults()
	if opts.Scope == "" {
		opts.Scope = defaults.Scope
	}
	if opts.RefreshRatio == 0 {
		opts.RefreshRatio = defaults.RefreshRatio
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = defaults.DialTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Provider{
		cred:      cred,
		opts:      opts,
		log:       opts.Logger,
		listeners: make(map[auth.CredentialsListener]uint64),
		kick:      make(chan struct{}, 1),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.run()
	return p
}

// Close stops the refresh loop and any token request in flight. It is
// idempotent. Connections keep the credentials they have.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		p.wg.Wait()
	})
	return nil
}

// onRotate registers f to be called, outside any lock, each time a new
// token replaces the current one. Pool uses it to re-authenticate idle
// connections.
func (p *Provider) onRotate(f func(old, next *Token)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rotations = append(p.rotations, f)
}

// Current returns the current token, or nil before the first.
func (p *Provider) Current() *Token {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tok
}

// Token returns a token valid for a new connection: the current one if it is
// usable, else the result of the one shared request (waiting at most
// FetchTimeout or until ctx ends). While the loop is backing off after a
// failure it returns that failure at once instead of asking again.
func (p *Provider) Token(ctx context.Context) (*Token, error) {
	p.mu.Lock()
	if t := p.usable(time.Now()); t != nil {
		p.mu.Unlock()
		return t, nil
	}
	call := p.call
	if call == nil && p.failures > 0 && time.Now().Before(p.next) {
		err := p.lastErr
		p.mu.Unlock()
		return nil, p.expiredOr(err)
	}
	if call == nil {
		call = p.startFetchLocked(p.opts.FetchTimeout)
	}
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, p.opts.FetchTimeout)
	defer cancel()
	select {
	case <-call.done:
		if call.err != nil {
			return nil, p.expiredOr(call.err)
		}
		return call.tok, nil
	case <-ctx.Done():
		return nil, ErrIdentityUnreachable.wrap(fmt.Errorf("no token within %s: %w", p.opts.FetchTimeout, ctx.Err()))
	case <-p.ctx.Done():
		return nil, errors.New("pool: credentials provider closed")
	}
}

// expiredOr reports ErrTokenExpired with the cause when a token was held and
// has expired, else the cause itself.
func (p *Provider) expiredOr(err error) error {
	p.mu.Lock()
	held := p.tok != nil
	p.mu.Unlock()
	if held {
		return ErrTokenExpired.wrap(err)
	}
	return err
}

// Credentials is go-redis's CredentialsProviderContext: the user name and
// token for a new connection.
func (p *Provider) Credentials(ctx context.Context) (username, password string, err error) {
	t, err := p.Token(ctx)
	if err != nil {
		return "", "", err
	}
	u, pw := t.BasicAuth()
	return u, pw, nil
}

// Subscribe implements auth.StreamingCredentialsProvider. It answers at once
// with the current valid token (or the shared request's, bounded by
// FetchTimeout) and calls listener.OnNext with every later token. Subscribing
// the same listener again is a no-op; every returned UnsubscribeFunc removes
// the listener, and calling one again does nothing.
func (p *Provider) Subscribe(listener auth.CredentialsListener) (auth.Credentials, auth.UnsubscribeFunc, error) {
	if listener == nil {
		return nil, nil, errors.New("pool: Subscribe needs a listener")
	}
	if !reflect.TypeOf(listener).Comparable() {
		return nil, nil, fmt.Errorf("pool: listener type %T is not comparable (use a pointer)", listener)
	}
	t, err := p.Token(context.Background())
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	if p.tok != nil && p.tok.seq > t.seq {
		t = p.tok // a newer token arrived meanwhile; the listener must not miss it
	}
	if seq, ok := p.listeners[listener]; !ok || seq < t.seq {
		p.listeners[listener] = t.seq
	}
	p.mu.Unlock()
	unsubscribe := func() error {
		p.mu.Lock()
		delete(p.listeners, listener)
		p.mu.Unlock()
		return nil
	}
	return t, unsubscribe, nil
}

// usable returns the current token if a new connection may use it.
func (p *Provider) usable(now time.Time) *Token {
	if p.tok == nil || !now.Before(p.tok.ExpiresOn.Add(-usableMargin(p.tok.Lifetime()))) {
		return nil
	}
	return p.tok
}

// run is the refresh loop: it sleeps until p.next, then asks for a token.
func (p *Provider) run() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		wait := time.Until(p.next)
		p.mu.Unlock()
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-p.ctx.Done():
				timer.Stop()
				return
			case <-p.kick:
				timer.Stop()
				continue
			case <-timer.C:
			}
		}
		p.mu.Lock()
		call := p.call
		if call == nil {
			life := time.Duration(0)
			if p.tok != nil {
				life = p.tok.Lifetime()
			}
			call = p.startFetchLocked(attemptTimeout(life, p.opts.FetchTimeout))
		}
		p.mu.Unlock()
		select {
		case <-call.done:
		case <-p.ctx.Done():
			return
		}
	}
}

// startFetchLocked starts the shared token request. p.mu must be held.
func (p *Provider) startFetchLocked(timeout time.Duration) *fetchCall {
	call := &fetchCall{done: make(chan struct{})}
	p.call = call
	p.wg.Add(1)
	go p.fetch(call, timeout)
	return call
}

// fetch asks the credential once and applies the result.
func (p *Provider) fetch(call *fetchCall, timeout time.Duration) {
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	at, err := p.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{p.opts.Scope}})
	cancel()
	now := time.Now()
	var tok *Token
	if err != nil {
		err = classifyTokenError(err)
	} else {
		tok, err = p.newToken(at, now)
	}

	p.mu.Lock()
	old := p.tok
	isNew := false
	switch {
	case err != nil:
		p.failures++
		p.lastErr, p.lastErrAt = err, now
		life := time.Duration(0)
		if old != nil {
			life = old.Lifetime()
		}
		p.next = now.Add(backoff(p.failures, life))
	case old != nil && (tok.token == old.token || !tok.ExpiresOn.After(old.ExpiresOn)):
		// The credential handed back its cached token: not a new token.
		tok = old
		p.failures = 0
		p.next = now.Add(pollInterval(old.Lifetime()))
	default:
		isNew = true
		tok.seq = 1
		if old != nil {
			tok.seq = old.seq + 1
		}
		p.prev, p.tok = old, tok
		p.failures, p.lastErr, p.lastOK = 0, nil, now
		p.next, p.deadline = plan(tok, p.opts.RefreshRatio)
	}
	p.call = nil
	var notify []auth.CredentialsListener
	var rotations []func(old, next *Token)
	if isNew {
		for l, seq := range p.listeners {
			if seq < tok.seq {
				p.listeners[l] = tok.seq
				notify = append(notify, l)
			}
		}
		rotations = append(rotations, p.rotations...)
	}
	next := p.next
	p.mu.Unlock()

	call.tok, call.err = tok, err
	close(call.done)
	select {
	case p.kick <- struct{}{}:
	default:
	}

	switch {
	case err != nil:
		p.stats.failures.Add(1)
		if old != nil {
			p.stats.refreshErr.Add(1)
		}
		c := ClassOf(err)
		p.log.Error("token acquisition failed", "class", c.String(), "error", err, "advice", c.Advice(), "retry_at", next)
	case !isNew:
		p.stats.duplicates.Add(1)
		p.log.Debug("identity endpoint returned the current token; asking again later", "expires_on", tok.ExpiresOn, "retry_at", next)
	default:
		p.stats.acquired.Add(1)
		if old == nil {
			p.log.Info("token acquired", "expires_on", tok.ExpiresOn, "user", tok.username, "next_refresh", next)
		} else {
			p.log.Debug("token refreshed", "expires_on", tok.ExpiresOn, "next_refresh", next)
			if old.username != tok.username {
				p.log.Warn("token user name (oid) changed between tokens", "old", old.username, "new", tok.username)
			}
		}
		for _, l := range notify {
			p.notify(l, tok)
		}
		for _, f := range rotations {
			f(old, tok)
		}
	}
}

// notify calls l.OnNext, surviving a panicking listener.
func (p *Provider) notify(l auth.CredentialsListener, t *Token) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("credentials listener panicked", "panic", fmt.Sprint(r))
		}
	}()
	p.stats.notified.Add(1)
	l.OnNext(t)
}

// newToken checks an access token and wraps it.
func (p *Provider) newToken(at azcore.AccessToken, now time.Time) (*Token, error) {
	user, exp, err := checkToken(at.Token, p.opts.Scope, p.opts.Username)
	if err != nil {
		return nil, err
	}
	expires := at.ExpiresOn
	if !exp.IsZero() && (expires.IsZero() || exp.Before(expires)) {
		expires = exp
	}
	if !expires.After(now) {
		return nil, ErrTokenExpired.wrap(fmt.Errorf("the credential returned a token that expired at %s", expires.UTC().Format(time.RFC3339)))
	}
	return &Token{token: at.Token, username: user, ExpiresOn: expires, RefreshOn: at.RefreshOn, AcquiredAt: now}, nil
}

// providerStatus is a snapshot of the provider's state.
type providerStatus struct {
	ExpiresOn       time.Time
	NextRefresh     time.Time
	ReauthDeadline  time.Time
	LastSuccess     time.Time
	LastError       error
	LastErrorAt     time.Time
	Valid           bool // a token usable by new connections is held
	Listeners       int
	TokensAcquired  int64
	TokenFailures   int64
	RefreshFailures int64
	DuplicateTokens int64
}

// status returns a snapshot of the provider's state.
func (p *Provider) status() providerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := providerStatus{
		NextRefresh: p.next, ReauthDeadline: p.deadline, LastSuccess: p.lastOK,
		LastError: p.lastErr, LastErrorAt: p.lastErrAt, Valid: p.usable(time.Now()) != nil,
		Listeners:       len(p.listeners),
		TokensAcquired:  p.stats.acquired.Load(),
		TokenFailures:   p.stats.failures.Load(),
		RefreshFailures: p.stats.refreshErr.Load(),
		DuplicateTokens: p.stats.duplicates.Load(),
	}
	if p.tok != nil {
		s.ExpiresOn = p.tok.ExpiresOn
	}
	return s
}

// tokens returns the current and previous tokens (either may be nil).
func (p *Provider) tokens() (cur, prev *Token) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tok, p.prev
}

var (
	_ auth.StreamingCredentialsProvider = (*Provider)(nil)
	_ auth.Credentials                  = (*Token)(nil)
)
