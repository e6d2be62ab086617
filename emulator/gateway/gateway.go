package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Gateway is the Azure Managed Redis authentication emulator. Create it with
// New, then Start it; Close releases everything.
type Gateway struct {
	cfg      Config
	verifier *verifier
	admin    *redis.Client
	tlsConf  *tls.Config
	caFile   string
	tempCA   bool
	counters *counters

	pausedUntil atomic.Int64 // unix nanoseconds; 0 when never paused
	delay       atomic.Int64 // time.Duration
	rtt         atomic.Int64 // time.Duration, SetRoundTrip
	refuse      atomic.Bool

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	policies map[string]policy
	closed   bool
	done     chan struct{}

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a gateway in front of cfg.Backend. With cfg.TLS it generates
// the certificates and writes the CA file at once.
func New(cfg Config) (*Gateway, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:      cfg,
		verifier: newVerifier(cfg),
		counters: newCounters(),
		conns:    make(map[*conn]struct{}),
		policies: make(map[string]policy),
		done:     make(chan struct{}),
	}
	g.SetRoundTrip(cfg.RoundTrip)
	if cfg.TLS {
		if err := g.setupTLS(); err != nil {
			return nil, err
		}
	}
	g.admin = redis.NewClient(&redis.Options{
		Addr:     cfg.Backend,
		Password: cfg.BackendPassword,
		PoolSize: 1,
		Protocol: 2,
	})
	return g, nil
}

func (g *Gateway) setupTLS() error {
	cert, caPEM, err := newCertificates()
	if err != nil {
		return err
	}
	path := g.cfg.CAFile
	if path == "" {
		f, err := os.CreateTemp("", "gateway-ca-*.pem")
		if err != nil {
			return fmt.Errorf("gateway: CA file: %w", err)
		}
		path = f.Name()
		g.tempCA = true
		if err := f.Close(); err != nil {
			return fmt.Errorf("gateway: CA file: %w", err)
		}
	}
	if err := os.WriteFile(path, caPEM, 0o644); err != nil {
		return fmt.Errorf("gateway: write CA file: %w", err)
	}
	g.caFile = path
	g.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return nil
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves clients until Close.
func (g *Gateway) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gateway: listen: %w", err)
	}
	ln = latencyListener{Listener: ln, g: g}
	if g.tlsConf != nil {
		ln = tls.NewListener(ln, g.tlsConf)
	}
	g.mu.Lock()
	if g.closed || g.ln != nil {
		g.mu.Unlock()
		ln.Close()
		return errors.New("gateway: already started or closed")
	}
	g.ln = ln
	g.wg.Add(1)
	g.mu.Unlock()
	go g.acceptLoop(ln)
	return nil
}

// Addr returns the host:port clients dial, or "" before Start.
func (g *Gateway) Addr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln == nil {
		return ""
	}
	return g.ln.Addr().String()
}

// CAFile returns the path of the CA certificate (PEM) that signed the
// gateway's certificate, or "" without TLS.
func (g *Gateway) CAFile() string { return g.caFile }

// Close stops listening, closes every connection and removes a temporary CA
// file. It is idempotent.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		g.mu.Lock()
		g.closed = true
		close(g.done)
		if g.ln != nil {
			g.ln.Close()
		}
		conns := make([]*conn, 0, len(g.conns))
		for c := range g.conns {
			conns = append(conns, c)
		}
		g.mu.Unlock()
		for _, c := range conns {
			c.close(closeShutdown)
		}
		g.wg.Wait()
		g.admin.Close()
		if g.tempCA {
			os.Remove(g.caFile)
		}
	})
	return nil
}

func (g *Gateway) acceptLoop(ln net.Listener) {
	defer g.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // the listener was closed
		}
		g.counters.connections.Add(1)
		if g.refuse.Load() {
			g.counters.refused.Add(1)
			nc.Close()
			continue
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.serve(nc)
		}()
	}
}

// serve proxies one client connection.
func (g *Gateway) serve(nc net.Conn) {
	if !g.hold(g.done) {
		nc.Close()
		return
	}
	bc, err := net.DialTimeout("tcp", g.cfg.Backend, backendDialTimeout)
	if err != nil {
		nc.Close()
		return
	}
	c := newConn(g, nc, bc)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		nc.Close()
		bc.Close()
		return
	}
	g.conns[c] = struct{}{}
	g.wg.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.wg.Done()
		c.forwardReplies()
	}()
	c.forwardCommands()
}

// hold waits while traffic is paused. It returns false when done is closed
// first.
func (g *Gateway) hold(done <-chan struct{}) bool {
	for {
		until := g.pausedUntil.Load()
		if until == 0 {
			return true
		}
		d := time.Until(time.Unix(0, until))
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			return false
		}
	}
}

// wait sleeps for the configured per-batch delay. It returns false when
// done is closed first.
func (g *Gateway) wait(done <-chan struct{}) bool {
	d := time.Duration(g.delay.Load())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

func (g *Gateway) remove(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}
