package pool

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newEntraStack starts the local stand-in for Azure (a real redis-server
// behind the Entra gateway with TLS, and the managed-identity token service)
// and puts the handler's settings for it in the environment. Without
// assignPolicy the app's identity has no access policy.
func newEntraStack(t *testing.T, lifetime time.Duration, assignPolicy bool) *localstack.Stack {
	t.Helper()
	rs := redistest.MustReal(t, redistest.Options{Password: "random"})
	s, err := localstack.Start(context.Background(), localstack.Config{Backend: rs.Server, TokenLifetime: lifetime, TLS: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	if !assignPolicy {
		require.NoError(t, s.Gateway.Revoke(localstack.AppObjectID))
	}
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return s
}

// entraConfig is the pool's configuration from the environment newEntraStack
// set, with cluster detection on and sizes and timeouts for the tests.
func entraConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := LoadConfig()
	require.NoError(t, err)
	cfg.Cluster, cfg.MinIdleConns, cfg.PoolSize = ClusterAuto, 4, 16
	cfg.ReadTimeout, cfg.WriteTimeout, cfg.DialTimeout = time.Second, time.Second, 2*time.Second
	return cfg
}

func newPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := New(ctx, cfg, Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// load runs SET+GET from workers until stop returns true; it returns the
// number of commands run and failed.
func load(t *testing.T, c redis.UniversalClient, workers int, stop func() bool) (ok, failed int64) {
	var wg sync.WaitGroup
	var okN, failN atomic.Int64
	var firstErr atomic.Value
	for w := range workers {
		wg.Go(func() {
			for i := 0; !stop(); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				key := fmt.Sprintf("load:%d:%d", w, i%100)
				err := c.Set(ctx, key, i, 0).Err()
				if err == nil {
					err = c.Get(ctx, key).Err()
				}
				cancel()
				if err != nil {
					failN.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					okN.Add(2)
				}
			}
		})
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		t.Logf("first failure: %v", e)
	}
	return okN.Load(), failN.Load()
}

// Concurrent load across at least 20 token rotations: no command fails and
// the gateway never closes a connection for token expiry.
func TestIntegrationRotationUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("rotations take real time")
	}
	st := newEntraStack(t, 3*time.Second, true)
	cfg := entraConfig(t)
	start := time.Now()
	p := newPool(t, cfg)
	_, err := p.TokenProvider().Token(context.Background())
	require.NoError(t, err)
	tokenWait := time.Since(start)
	require.NoError(t, p.Warm(context.Background()))
	t.Logf("cold start: first token after %s, warm (%d connections PINGed) after %s", tokenWait, cfg.MinIdleConns, time.Since(start))

	deadline := time.Now().Add(2 * time.Minute)
	ok, failed := load(t, p.Client(), 16, func() bool {
		return p.Health().Counters.TokenAcquisitions >= 21 || time.Now().After(deadline)
	})
	// Let the last rotation's re-authentication and deadline pass.
	time.Sleep(3 * time.Second)
	h := p.Health()
	gs := st.Gateway.Stats()
	t.Logf("rotations=%d commands=%d failed=%d expiry_closes=%d gateway_reauths=%d pool_reauths=%d dials=%d retired=%d",
		h.Counters.TokenAcquisitions-1, ok, failed, gs.ClosedTokenExpired, gs.ReAuths, h.Counters.Reauthentications, h.Counters.Dials, h.Counters.Retired)
	assert.GreaterOrEqual(t, h.Counters.TokenAcquisitions-1, int64(20), "rotations")
	assert.Zero(t, failed, "failed commands")
	assert.Zero(t, gs.ClosedTokenExpired, "connections closed by the server for token expiry")
	assert.Zero(t, h.Counters.AuthFailures)
	assert.Equal(t, StateReady, h.State)
}

// A pool left idle for three token lifetimes is still usable at once: every
// idle connection was re-authenticated while nobody used it.
func TestIntegrationIdleThreeLifetimes(t *testing.T) {
	if testing.Short() {
		t.Skip("idles in real time")
	}
	st := newEntraStack(t, 3*time.Second, true)
	p := newPool(t, entraConfig(t))
	require.NoError(t, p.Warm(context.Background()))
	dialsBefore := p.Health().Counters.Dials

	time.Sleep(9 * time.Second)

	ctx := context.Background()
	for i := range 20 {
		require.NoError(t, p.Client().Set(ctx, fmt.Sprint("idle:", i), i, 0).Err())
	}
	h := p.Health()
	gs := st.Gateway.Stats()
	t.Logf("rotations=%d expiry_closes=%d reauths=%d dials_during_idle=%d retired=%d",
		h.Counters.TokenAcquisitions-1, gs.ClosedTokenExpired, h.Counters.Reauthentications, h.Counters.Dials-dialsBefore, h.Counters.Retired)
	assert.GreaterOrEqual(t, h.Counters.TokenAcquisitions, int64(3))
	assert.Zero(t, gs.ClosedTokenExpired, "connections closed by the server for token expiry")
	assert.Positive(t, h.Counters.Reauthentications)
	assert.Zero(t, h.Connections.Stale)
}

// An identity without an access policy (the README's first failure scenario), reported as
// ErrNoAccessPolicy with what to do.
func TestIntegrationNoAccessPolicy(t *testing.T) {
	newEntraStack(t, time.Minute, false)
	p := newPool(t, entraConfig(t))
	err := p.Warm(context.Background())
	require.ErrorIs(t, err, ErrNoAccessPolicy)
	assert.Contains(t, err.Error(), "access policy")
	assert.Equal(t, ErrNoAccessPolicy, ClassOf(p.Client().Get(context.Background(), "k").Err()))
	h := p.Health()
	assert.Equal(t, "no_access_policy", h.LastErrorClass)
	assert.Positive(t, h.Counters.AuthFailures)
	assert.NotContains(t, h.LastError, "eyJ", "no token in health")
}

// The token service down at cold start: Warm reports the identity class; once
// it is back the pool serves without a restart.
func TestIntegrationColdStartIdentityDown(t *testing.T) {
	st := newEntraStack(t, time.Minute, true)
	st.Tokens.SetFault(tokenservice.Fault{Mode: tokenservice.Refuse})
	cfg := entraConfig(t)
	cfg.Cluster = ClusterNone
	p := newPool(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := p.Warm(ctx)
	cancel()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrIdentityUnreachable)
	st.Tokens.SetFault(tokenservice.Fault{})
	require.Eventually(t, func() bool { return p.Client().Ping(context.Background()).Err() == nil }, 20*time.Second, 100*time.Millisecond)
}

// Close stops every goroutine the pool started.
func TestIntegrationCloseLeavesNoGoroutine(t *testing.T) {
	newEntraStack(t, 3*time.Second, true)
	p := newPool(t, entraConfig(t))
	require.NoError(t, p.Warm(context.Background()))
	time.Sleep(3 * time.Second) // at least one rotation and re-authentication
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "idempotent")
	// The emulators and the HTTP client's idle connections keep goroutines of
	// their own; none may run the pool's or go-redis's code.
	require.Eventually(t, func() bool { return poolGoroutines() == "" }, 5*time.Second, 20*time.Millisecond,
		"goroutines left after Close:\n%s", poolGoroutines())
}

// poolGoroutines returns the stacks of goroutines running pool or go-redis code.
func poolGoroutines() string {
	buf := make([]byte, 1<<20)
	var left []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "TestIntegrationCloseLeavesNoGoroutine") || strings.Contains(g, "poolGoroutines") ||
			strings.Contains(g, "pool.TestMain") {
			continue
		}
		if strings.Contains(g, "funcredis/pool.") || strings.Contains(g, "redis/go-redis") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

// A local 3-node redis-server cluster in oss mode across rotations. Tokens
// from a fake credential are installed as ACL passwords on every node (the
// gateway fronts one server only; this checks the cluster wiring).
func TestIntegrationClusterOSS(t *testing.T) {
	if testing.Short() {
		t.Skip("rotations take real time")
	}
	nodes := startCluster(t, 3)
	cred := &fakeCred{life: 2 * time.Second, oid: "app"}
	cred.onMint = func(token string, _ time.Time) {
		for _, n := range nodes {
			c := redis.NewClient(&redis.Options{Addr: n.Addr})
			err := c.Do(context.Background(), "ACL", "SETUSER", "app", "on", ">"+token, "~*", "&*", "+@all").Err()
			c.Close()
			if err != nil {
				t.Errorf("install token on %s: %v", n.Addr, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := New(ctx, Config{Addr: nodes[0].Addr, Cluster: ClusterAuto, MinIdleConns: 2, TLS: false}, Options{Credential: cred, Logger: quiet})
	require.NoError(t, err)
	defer p.Close()
	_, isCluster := p.Client().(*redis.ClusterClient)
	require.True(t, isCluster, "auto must detect the cluster")
	require.NoError(t, p.Warm(ctx))
	stop := time.Now().Add(2 * time.Minute)
	ok, failed := load(t, p.Client(), 8, func() bool {
		return p.Health().Counters.TokenAcquisitions >= 6 || time.Now().After(stop)
	})
	h := p.Health()
	t.Logf("cluster: rotations=%d commands=%d failed=%d reauths=%d", h.Counters.TokenAcquisitions-1, ok, failed, h.Counters.Reauthentications)
	assert.GreaterOrEqual(t, h.Counters.TokenAcquisitions, int64(6))
	assert.Zero(t, failed)
	assert.Positive(t, h.Counters.Reauthentications)
}

// startCluster starts n real redis-servers in cluster mode and joins them,
// the slots split evenly.
func startCluster(t *testing.T, n int) []*redistest.Server {
	t.Helper()
	var nodes []*redistest.Server
	for range n {
		nodes = append(nodes, redistest.MustReal(t, redistest.Options{Args: []string{"--cluster-enabled", "yes", "--cluster-node-timeout", "2000"}}))
	}
	ctx := context.Background()
	per := 16384 / n
	for i, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.Addr})
		hi := (i+1)*per - 1
		if i == n-1 {
			hi = 16383
		}
		require.NoError(t, c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", i*per, hi).Err())
		if i > 0 {
			host, port, _ := strings.Cut(nodes[0].Addr, ":")
			require.NoError(t, c.Do(ctx, "CLUSTER", "MEET", host, port).Err())
		}
		c.Close()
	}
	require.Eventually(t, func() bool {
		for _, node := range nodes {
			c := redis.NewClient(&redis.Options{Addr: node.Addr})
			info, err := c.ClusterInfo(ctx).Result()
			c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "cluster did not form")
	return nodes
}
