package main

import (
	"github.com/funcredis/funcredis/cache"
	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/health"
	"github.com/funcredis/funcredis/pool"
	"github.com/funcredis/funcredis/ratelimit"
)

// register gives every function folder its handler: the functions get the pool's client (health,
// the pool itself) and their settings. Add a new function here: one line per folder, named as
// the folder is.
func register(app *handler.App, p *pool.Pool) error {
	cacheCfg, err := cache.LoadConfig()
	if err != nil {
		return err
	}
	rateCfg, err := ratelimit.LoadConfig()
	if err != nil {
		return err
	}
	app.HandleHTTP("cache", cache.New(p.Client(), cacheCfg))
	app.HandleHTTP("cache-incr", cache.NewIncr(p.Client(), cacheCfg))
	app.HandleHTTP("cache-batch", cache.NewBatch(p.Client(), cacheCfg))
	app.HandleHTTP("health", health.New(p))
	app.HandleHTTP("ratelimit", ratelimit.New(p.Client(), rateCfg))
	return nil
}
