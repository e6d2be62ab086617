package handler

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeInvocation feeds arbitrary invocation bodies to the payload codec: it must never
// panic, and whatever it accepts must decode entry by entry without panicking either.
func FuzzDecodeInvocation(f *testing.F) {
	for _, seed := range []string{docsHTTPPayload, codeHTTPPayload, docsQueuePayload, fixtureQueuePayload, codeQueuePayload, timerPayload} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		inv, err := decodeInvocation(body)
		if err != nil {
			return
		}
		if inv.Data == nil || inv.Metadata == nil {
			t.Fatal("accepted invocation with nil maps")
		}
		for name := range inv.Data {
			var s string
			var b []byte
			var n int
			var obj map[string]any
			var v any
			_ = inv.Decode(name, &s)
			_ = inv.Decode(name, &b)
			_ = inv.Decode(name, &n)
			_ = inv.Decode(name, &obj)
			_ = inv.Decode(name, &v)
		}
		for name := range inv.Metadata {
			var s string
			_ = inv.DecodeMetadata(name, &s)
		}
	})
}

// FuzzHTTPRequest feeds arbitrary trigger data to the request reconstruction: it must never panic,
// and an accepted request must be one net/http could have produced (valid method and URL, a
// readable body of the stated length), and its recorded answer must encode as a host-valid HTTP
// output.
func FuzzHTTPRequest(f *testing.F) {
	for _, payload := range []string{docsHTTPPayload, codeHTTPPayload} {
		var inv invocationRequest
		if err := json.Unmarshal([]byte(payload), &inv); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(inv.Data["req"]))
	}
	f.Add([]byte(`{"Url":"http://h/api/cache/k?a=1&a=2","Method":"PUT","Headers":{"Content-Type":["application/octet-stream"]},"Params":{"key":"k"},"Body":"AAH/"}`))
	f.Add([]byte(`"{\"Url\":\"http://h/api/x\",\"Method\":\"DELETE\",\"Query\":\"{\\\"q\\\":\\\"1\\\"}\"}"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newHTTPRequest(context.Background(), data, "api", "fn")
		if err != nil {
			return
		}
		if r.URL == nil || r.Method == "" || r.Header == nil {
			t.Fatalf("incomplete request %+v", r)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || int64(len(body)) != r.ContentLength {
			t.Fatalf("body %d bytes (%v), ContentLength %d", len(body), err, r.ContentLength)
		}
		rec := newRecorder()
		rec.Header().Set("X-Method", r.Method)
		_, _ = rec.Write(body)
		out, err := newHTTPOutput(http.MethodGet, rec)
		if utf8.Valid(body) != (err == nil) {
			t.Fatalf("newHTTPOutput(%q) = %v", body, err)
		}
		if err == nil {
			if _, err := json.Marshal(out); err != nil {
				t.Fatal(err)
			}
		}
	})
}
