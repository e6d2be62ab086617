package pooltest_test

import (
	"context"
	"testing"

	"github.com/funcredis/funcredis/pool/pooltest"
)

func TestNewServesCommands(t *testing.T) {
	ctx := context.Background()
	rdb := pooltest.New(t).Client()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v; want v", got, err)
	}
	if n, err := pooltest.New(t).Client().DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("a second pool's server holds %d keys (%v); want its own, empty server", n, err)
	}
}
