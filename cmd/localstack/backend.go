package main

import (
	"context"

	"github.com/funcredis/funcredis/emulator/redisserver"
)

// startBackend starts a redis-server with a random requirepass on a free
// loopback port, or miniredis when no redis-server is installed (miniredis
// has no ACL users, so it cannot sit behind the gateway).
func startBackend(ctx context.Context) (*redisserver.Server, error) {
	if !redisserver.Installed() {
		return redisserver.StartEmbedded(redisserver.Options{})
	}
	return redisserver.Start(ctx, redisserver.Options{Password: "random"})
}
