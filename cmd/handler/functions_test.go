package main

import (
	"context"
	"testing"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
)

// TestRegistryMatchesFolders builds the registry exactly like serve.Main and checks it against the
// repository root, so a function folder without a handler (or the reverse) fails here.
func TestRegistryMatchesFolders(t *testing.T) {
	app, err := handler.New(handler.Options{Root: "../.."})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pool.New(context.Background(), pool.Config{Addr: "127.0.0.1:1", Auth: pool.AuthNone, Cluster: pool.ClusterNone}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := register(app, p); err != nil {
		t.Fatal(err)
	}
	if err := app.Check(); err != nil {
		t.Fatal(err)
	}
}
