package handler_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/funcredis/funcredis/handler"
)

// This is how main wires functions: one handler per function folder, Check before serving, and
// the warm-up signal behind GET /.
func Example() {
	warm := make(chan struct{}) // closed by whatever warms the app (the Redis pool)
	app, err := handler.New(handler.Options{Root: ".", Ready: warm, WarmupTimeout: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	// cache/function.json: httpTrigger with "route": "cache/{key}".
	app.HandleHTTP("cache", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Log(r.Context(), "get", "key", r.PathValue("key"))
		if r.PathValue("key") == "" {
			handler.WriteProblem(w, handler.Problem{Type: handler.ProblemType("missing-key"), Status: http.StatusBadRequest})
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("value"))
	}))
	// cleanup/function.json: timerTrigger named "timer".
	app.HandleInvocation("cleanup", handler.InvocationHandlerFunc(func(ctx context.Context, inv *handler.Invocation) (*handler.Result, error) {
		var timer struct{ IsPastDue bool }
		if err := inv.Decode("timer", &timer); err != nil {
			return nil, err
		}
		handler.Log(ctx, "cleanup ran", "pastDue", timer.IsPastDue)
		return nil, nil
	}))
	if err := app.Check(); err != nil {
		log.Fatal(err) // exits 1: the host restarts a process that exits non-zero
	}
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), Handler: app, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
