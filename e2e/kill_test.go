package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcredis/funcredis/cache"
	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/redis/go-redis/v9"
)

// TestKillMidLoad kills the handler with SIGKILL while writers run: the host restarts it, the new
// process serves, and every write acknowledged before (or after) the kill is in Redis.
func TestKillMidLoad(t *testing.T) {
	a := startApp(t, true)
	firstPID := a.h.PID()
	var (
		mu    sync.Mutex
		acked = map[string]string{}
		seq   atomic.Int64
		sawOK atomic.Int64
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; i < 5000; i++ { // bounded in count and by ctx
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				key := fmt.Sprintf("kill-%d-%d", w, i)
				val := fmt.Sprintf("v%d", seq.Add(1))
				res, _, err := a.try("PUT", "/api/cache/"+key, val)
				if err == nil && (res.StatusCode == 201 || res.StatusCode == 204) {
					mu.Lock()
					acked[key] = val
					mu.Unlock()
					sawOK.Add(1)
				}
			}
		})
	}
	waitFor(t, ctx, func() bool { return sawOK.Load() >= 50 })
	if err := a.h.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := sawOK.Load()
	// The restarted process must acknowledge writes again.
	waitFor(t, ctx, func() bool { return a.h.PID() != 0 && a.h.PID() != firstPID && sawOK.Load() >= killedAt+50 })
	close(stop)
	wg.Wait()
	if st := a.h.Stats(); st.Restarts < 1 {
		t.Fatalf("host did not restart the handler: %+v", st)
	}
	rdb := backendClient(t)
	mu.Lock()
	defer mu.Unlock()
	for k, v := range acked {
		got, err := rdb.Get(ctx, cache.ValueKey(cache.DefaultConfig().KeyPrefix, k)).Result()
		if err != nil || got != v {
			t.Fatalf("acknowledged write %s missing after the kill: %q %v", k, got, err)
		}
	}
	t.Logf("%d acknowledged writes, all present; handler pid %d → %d", len(acked), firstPID, a.h.PID())
	a.assertNoTokenInLogs(t)
}

// waitFor polls cond every 20 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not reached in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// backendClient talks to the redis-server behind the gateway with its password.
func backendClient(t testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: st.Backend.Addr, Password: st.Backend.Password})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// gatewayClient talks to the gateway as the handler does: TLS and an Entra token.
func gatewayClient(t testing.TB) *redis.Client {
	tlsConf, err := localstack.ClientTLS(st.Gateway.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:      st.Gateway.Addr(),
		TLSConfig: tlsConf,
		CredentialsProviderContext: func(context.Context) (string, string, error) {
			tok, _, err := st.Tokens.Token(localstack.AppObjectID)
			return localstack.AppObjectID, tok, err
		},
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestFatalConfigExitsNonZero: a bad setting ends the process with exit 1 and a message naming
// the setting (the host never restarts a process that exits 0). The handler runs in the
// repository root, a script root: the functions' settings are read when they are registered.
func TestFatalConfigExitsNonZero(t *testing.T) {
	cases := []struct{ env, setting string }{
		{"REDIS_AUTH=kerberos", "REDIS_AUTH"},
		{"WARMUP_TIMEOUT=soon", "WARMUP_TIMEOUT"},
		{"CACHE_MAX_BATCH=0", "CACHE_MAX_BATCH"},
		{"LOG_FORMAT=xml", "LOG_FORMAT"},
	}
	for _, c := range cases {
		t.Run(c.setting, func(t *testing.T) {
			cmd := exec.Command(handlerBin)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "REDIS_HOST=127.0.0.1:1", "FUNCTIONS_CUSTOMHANDLER_PORT=0", c.env)
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 || !strings.Contains(strings.ToUpper(string(out)), c.setting) {
				t.Fatalf("exit %v, output %q", err, out)
			}
		})
	}
	t.Run("REDIS_HOST", func(t *testing.T) {
		cmd := exec.Command(handlerBin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "REDIS_HOST") {
			t.Fatalf("exit %v, output %q", err, out)
		}
	})
}
