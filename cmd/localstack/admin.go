package main

import (
	"encoding/json"
	"net/http"
	"time"
)

// adminHandler serves EMULATOR_ADMIN:
//
//	GET  /stats                      counters of the token service, the gateway and the host
//	POST /tokens/lifetime?d=90s      change the lifetime of tokens issued from now on
//	     /tokens/admin/…             the token service's admin API (POST /tokens/admin/fault, …)
//	     /gateway/…                  the gateway's admin API (POST /gateway/faults/drop, …)
//	POST /host/kill                  SIGKILL the handler; the host restarts it
func (s *stack) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]any{"tokens": s.emulators.Tokens.Stats()}
		if s.emulators.Gateway != nil {
			out["gateway"] = s.emulators.Gateway.Stats()
		}
		if h := s.host.Load(); h != nil {
			out["host"] = h.Stats()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /tokens/lifetime", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < time.Second {
			http.Error(w, "d must be a duration of at least 1s, e.g. ?d=90s", http.StatusBadRequest)
			return
		}
		s.emulators.Tokens.SetLifetime(d)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/tokens/", http.StripPrefix("/tokens", s.emulators.Tokens))
	if s.emulators.Gateway != nil {
		mux.Handle("/gateway/", http.StripPrefix("/gateway", s.emulators.Gateway.AdminHandler()))
	}
	mux.HandleFunc("POST /host/kill", func(w http.ResponseWriter, r *http.Request) {
		h := s.host.Load()
		if h == nil {
			http.Error(w, "no handler is running (-handler=false)", http.StatusConflict)
			return
		}
		if err := h.Kill(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
