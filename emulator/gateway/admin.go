package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// AdminHandler serves the gateway's admin API for people and scripts:
//
//	GET  /stats                          counters (Stats) as JSON
//	POST /faults/drop                    close every client connection: {"dropped": n}
//	POST /faults/pause?for=2s            hold all traffic for a duration
//	POST /faults/delay?d=5ms             add latency per forwarded batch (0 removes it)
//	POST /network/rtt?d=1ms              round-trip time of connections accepted from now on (SetRoundTrip)
//	POST /faults/refuse?on=true|false    refuse new connections, or stop refusing
//	POST /faults/revoke?oid=<object-id>  remove an object ID's access policy assignment
//	POST /policies?oid=<id>&access=<acl> assign an access policy (access empty: default)
func (g *Gateway) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, g.Stats())
	})
	mux.HandleFunc("POST /faults/drop", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]int{"dropped": g.DropAll()})
	})
	mux.HandleFunc("POST /faults/pause", setDuration("for", g.Pause))
	mux.HandleFunc("POST /faults/delay", setDuration("d", g.SetDelay))
	mux.HandleFunc("POST /network/rtt", setDuration("d", g.SetRoundTrip))
	mux.HandleFunc("POST /faults/refuse", func(w http.ResponseWriter, r *http.Request) {
		on, err := strconv.ParseBool(r.URL.Query().Get("on"))
		if err != nil {
			http.Error(w, "query parameter on must be true or false", http.StatusBadRequest)
			return
		}
		g.RefuseNew(on)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /faults/revoke", func(w http.ResponseWriter, r *http.Request) {
		oid := r.URL.Query().Get("oid")
		if oid == "" {
			http.Error(w, "query parameter oid is required", http.StatusBadRequest)
			return
		}
		if err := g.Revoke(oid); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /policies", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		err := g.AssignPolicy(q.Get("oid"), q.Get("access"))
		switch {
		case errors.Is(err, ErrInvalidPolicy):
			http.Error(w, err.Error(), http.StatusBadRequest)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return mux
}

// setDuration serves a POST that calls set with the duration in query parameter name.
func setDuration(name string, set func(time.Duration)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := durationParam(r, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		set(d)
		w.WriteHeader(http.StatusNoContent)
	}
}

func durationParam(r *http.Request, name string) (time.Duration, error) {
	d, err := time.ParseDuration(r.URL.Query().Get(name))
	if err != nil || d < 0 {
		return 0, errors.New("query parameter " + name + " must be a non-negative duration such as 250ms")
	}
	return d, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
