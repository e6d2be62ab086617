package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/funcredis/funcredis/cache"
	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

// The -serve modes: other servers the bench compares bin/handler with, run as their own process
// (this program re-executed) so each server has a process to itself, as bin/handler does.
const (
	// serveBaseline is (b): the smallest reasonable net/http + go-redis handler: one client built
	// at start with a token fetched once, no auth, validation, metrics or logs.
	serveBaseline = "baseline"
	// servePerInvocation is what users write instead: every request builds a credential, fetches
	// a token, builds a client, runs its command and closes the client.
	servePerInvocation = "perinvocation"
	// serveBaselineFn is (b) serving the cache function itself (cache.New: the product's Redis
	// commands, validation, ETag and headers) on a plain ServeMux and go-redis client. It
	// separates what the function costs from what bin/handler's framework (function.json
	// routing, invocation state, the pool's connection wrapper) costs.
	serveBaselineFn = "baseline-fn"
)

// cachePrefix is the cache function's default CACHE_KEY_PREFIX, under which bin/handler keeps
// the values every server reads.
var cachePrefix = cache.DefaultConfig().KeyPrefix

// valueKey is where the cache function keeps key's bytes.
func valueKey(key string) string { return cache.ValueKey(cachePrefix, key) }

// serve runs a -serve mode on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT until killed.
func serve(mode string) error {
	tlsConf, err := localstack.ClientTLS(os.Getenv("REDIS_TLS_CA_FILE"))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	// client is the one go-redis client of (b) and (b-fn): a token fetched once as password.
	client := func() *redis.Client {
		return redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_HOST"), Username: os.Getenv("REDIS_USERNAME"),
			Password: os.Getenv("REDIS_PASSWORD"), TLSConfig: tlsConf})
	}
	switch mode {
	case serveBaseline:
		rdb := client()
		defer rdb.Close()
		handleBaseline(mux, rdb)
	case serveBaselineFn:
		rdb := client()
		defer rdb.Close()
		handleBaselineFn(mux, rdb)
	case servePerInvocation:
		mux.HandleFunc("GET /api/cache/{key}", func(w http.ResponseWriter, r *http.Request) {
			v, err := getPerInvocation(r.Context(), tlsConf, valueKey(r.PathValue("key")))
			writeValue(w, v, err)
		})
	default:
		return fmt.Errorf("-serve %q: want %s, %s or %s", mode, serveBaseline, serveBaselineFn, servePerInvocation)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return srv.Serve(ln)
}

// handleBaseline adds (b)'s routes to mux: GET is one Redis GET, PUT one SET.
func handleBaseline(mux *http.ServeMux, rdb *redis.Client) {
	mux.HandleFunc("GET /api/cache/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, err := rdb.Get(r.Context(), valueKey(r.PathValue("key"))).Bytes()
		writeValue(w, v, err)
	})
	mux.HandleFunc("PUT /api/cache/{key}", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err == nil {
			err = rdb.Set(r.Context(), valueKey(r.PathValue("key")), b, 0).Err()
		}
		if err != nil {
			http.Error(w, "redis error", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleBaselineFn adds (b-fn)'s route to mux: the cache function with its defaults.
func handleBaselineFn(mux *http.ServeMux, rdb *redis.Client) {
	mux.Handle("/api/cache/{key...}", cache.New(rdb, cache.DefaultConfig()))
}

// getPerInvocation is the serverless anti-pattern: a new credential, a token request, a new
// client (TLS dial and AUTH) and a Close, for one GET.
func getPerInvocation(ctx context.Context, tlsConf *tls.Config, key string) ([]byte, error) {
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: azidentity.ClientID(os.Getenv("AZURE_CLIENT_ID"))})
	if err != nil {
		return nil, fmt.Errorf("credential: %w", err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{pool.DefaultScope}})
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_HOST"), Username: os.Getenv("REDIS_USERNAME"),
		Password: tok.Token, TLSConfig: tlsConf})
	defer rdb.Close()
	return rdb.Get(ctx, key).Bytes()
}

// writeValue answers a GET: the bytes, 404 for a missing key, 503 for a Redis error.
func writeValue(w http.ResponseWriter, v []byte, err error) {
	switch {
	case errors.Is(err, redis.Nil):
		http.Error(w, "not found", http.StatusNotFound)
	case err != nil:
		http.Error(w, "redis error", http.StatusServiceUnavailable)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(v)
	}
}
