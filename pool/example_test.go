package pool_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

// One Pool per process: settings from the environment, warm before serving,
// every command through Client, Health for probes. (Compiled, not run: it
// needs REDIS_HOST and an identity.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cfg, err := pool.LoadConfig() // REDIS_HOST, REDIS_CLUSTER, AZURE_CLIENT_ID, …
	if err != nil {
		log.Fatal(err) // names every bad setting
	}
	p, err := pool.New(ctx, cfg, pool.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	// A token and MinIdleConns connections, PINGed. On failure serve anyway:
	// the pool keeps retrying and Health reports why.
	if err := p.Warm(ctx); err != nil {
		c := pool.ClassOf(err)
		log.Printf("warm-up: %s: %s", c, c.Advice())
	}

	v, err := p.Client().Get(ctx, "greeting").Result() // any go-redis command
	switch {
	case errors.Is(err, redis.Nil):
		fmt.Println("no greeting")
	case err != nil:
		fmt.Println("redis:", pool.ClassOf(err)) // no_access_policy, redis_unreachable, …
	default:
		fmt.Println(v)
	}

	h := p.Health() // state, token expiry, counters; no secrets
	fmt.Println(h.State)
}
