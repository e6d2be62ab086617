// Command stubhandler is a minimal custom handler for localstack's tests: it
// answers the host's readiness probe and, on any other path, the settings the
// host gave it (names only for secrets), so a test can see them end to end.
package main

import (
	"encoding/json"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:" + os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"pid":          os.Getpid(),
			"REDIS_HOST":   os.Getenv("REDIS_HOST"),
			"REDIS_AUTH":   os.Getenv("REDIS_AUTH"),
			"SAMPLE_ONLY":  os.Getenv("SAMPLE_ONLY"),
			"has_identity": os.Getenv("IDENTITY_HEADER") != "",
		})
	}))
	if err != nil {
		os.Exit(1)
	}
}
