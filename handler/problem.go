package handler

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// problemTypePrefix is the stable URN namespace of every problem type this module emits.
const problemTypePrefix = "urn:funcredis:problem:"

// Problem is an RFC 9457 problem detail. Its fields are written as the members type, title,
// status, detail and instance; empty members are omitted.
type Problem struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title,omitempty"`
	Status   int    `json:"status,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// ProblemType returns the stable type URI for a failure class, "urn:funcredis:problem:<slug>".
func ProblemType(slug string) string {
	return problemTypePrefix + slug
}

// WriteProblem writes p as application/problem+json with status p.Status (500 when zero). An empty
// Type becomes "about:blank" and an empty Title the status text, as RFC 9457 prescribes. It writes
// only what p holds: callers keep secrets and request data out of Detail.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Status < 100 || p.Status > 999 {
		p.Status = http.StatusInternalServerError
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen: Problem holds only strings and an int
		body = []byte(`{"type":"about:blank","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteMethodNotAllowed answers 405 with an Allow header listing the methods in allow (sorted,
// each once), as a problem of type ProblemType("method-not-allowed"). Every 405 is written by it,
// the router's and the functions' own.
func WriteMethodNotAllowed(w http.ResponseWriter, allow ...string) {
	allow = slices.Compact(slices.Sorted(slices.Values(allow)))
	list := strings.Join(allow, ", ")
	w.Header().Set("Allow", list)
	WriteProblem(w, problem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "this function accepts "+list))
}

// problem builds a Problem of one of this package's failure classes.
func problem(status int, slug, title, detail string) Problem {
	return Problem{Type: ProblemType(slug), Title: title, Status: status, Detail: detail}
}
