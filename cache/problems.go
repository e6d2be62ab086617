package cache

import (
	"errors"
	"net/http"

	"github.com/funcredis/funcredis/handler"
)

// Problem type slugs (handler.ProblemType(slug)) this package answers bad input with:
// invalid-key, invalid-ttl, invalid-increment, invalid-precondition, malformed-json, invalid-batch,
// too-many-keys, duplicate-key, value-too-large, unsupported-media-type, unreadable-body,
// method-not-allowed, not-found, precondition-failed, not-an-integer. Redis and identity trouble
// is answered by redisproblem.Write.

// writeInput answers a bad-input error from a parser.
func writeInput(w http.ResponseWriter, err error) {
	var ie *inputError
	if !errors.As(err, &ie) {
		ie = &inputError{status: 400, slug: "bad-request", detail: "the request is invalid"}
	}
	handler.WriteProblem(w, handler.Problem{Type: handler.ProblemType(ie.slug), Status: ie.status, Detail: ie.detail})
}

// writeProblem answers a problem of one of this package's slugs.
func writeProblem(w http.ResponseWriter, status int, slug, detail string) {
	handler.WriteProblem(w, handler.Problem{Type: handler.ProblemType(slug), Status: status, Detail: detail})
}
