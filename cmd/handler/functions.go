package main

import (
	"github.com/funcredis/funcredis/cache"
	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/health"
	"github.com/funcredis/funcredis/pool"
	"github.com/funcredis/funcredis/ratelimit"
)

// settings are the functions' settings, read once by main.
type settings struct {
	Cache     cache.Config
	RateLimit ratelimit.Config
}

// register gives every function folder its handler: the functions get the pool's client (health,
// the pool itself). Add a new function here: one line per folder, named as the folder is.
func register(app *handler.App, p *pool.Pool, s settings) {
	app.HandleHTTP("cache", cache.New(p.Client(), s.Cache))
	app.HandleHTTP("cache-incr", cache.NewIncr(p.Client(), s.Cache))
	app.HandleHTTP("cache-batch", cache.NewBatch(p.Client(), s.Cache))
	app.HandleHTTP("health", health.New(p))
	app.HandleHTTP("ratelimit", ratelimit.New(p.Client(), s.RateLimit))
}
