package host

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// hopHeaders are connection-level headers the host's HttpClient manages itself.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}

// forwardRequest is enableForwardingHttpRequest (ProcessHttpInAndOutInvocationRequest): the
// request is rebuilt to http://127.0.0.1:port + original path + rebuilt query, headers copied
// plus the host's, body only when Content-Length > 0, redirects not followed, and the handler's
// response passed through as is.
func (h *Host) forwardRequest(w http.ResponseWriter, r *http.Request, in incoming, f *function) {
	d, ctx, err := h.begin(r.Context(), f.name)
	if err != nil {
		h.log.Error("invocation not dispatched", "function", f.name, "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if slices.ContainsFunc(r.TransferEncoding, func(te string) bool { return strings.EqualFold(te, "chunked") }) {
		// The host copies Transfer-Encoding: chunked into the HttpRequestMessage but a body only
		// for Content-Length > 0 (HttpRequestExtensions.ToHttpRequestMessage), and HttpClient
		// refuses to send that (ValidateAndNormalizeRequest in dotnet/runtime): the invocation
		// fails and the client gets an empty 500; the handler never sees the request.
		_ = h.end(d, f.name, fmt.Errorf("%w: 'Transfer-Encoding: chunked' header can not be used when content object is not specified", ErrInvocationFailed))
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	// new Uri(GetDisplayUrl()).AbsolutePath: the decoded Request.Path escaped again by Uri, %2F
	// kept (DefaultHttpWorkerService.GetPathValue).
	target := "http://127.0.0.1:" + strconv.Itoa(h.port) + uriPath(in.path) + rebuildQuery(r.URL.RawQuery)
	var body io.Reader
	if r.ContentLength > 0 {
		body = r.Body
	}
	req, err := http.NewRequestWithContext(ctx, normalizeMethod(r.Method), target, body)
	if err != nil {
		_ = h.end(d, f.name, fmt.Errorf("%w: build forwarded request: %w", ErrInvocationFailed, err))
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	for k, v := range r.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	for _, k := range hopHeaders {
		req.Header.Del(k)
	}
	if body == nil {
		// Content headers travel only with content.
		req.Header.Del("Content-Type")
	} else {
		req.ContentLength = r.ContentLength
	}
	req.Host = r.Host
	hostHeaders(req, d.id)

	resp, err := h.client.Do(req)
	if err != nil {
		_ = h.end(d, f.name, fmt.Errorf("%w: %w", ErrInvocationFailed, err))
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		_ = h.end(d, f.name, fmt.Errorf("%w: copy response: %w", ErrInvocationFailed, err))
		panic(http.ErrAbortHandler) // the status is already sent: abort the client connection
	}
	_ = h.end(d, f.name, nil)
}

// knownMethods are the methods .NET's HttpClient sends in their canonical upper-case spelling
// whatever case the request used (HttpMethod.Normalize in dotnet/runtime).
var knownMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "TRACE", "PATCH", "CONNECT"}

// normalizeMethod spells a known method in upper case and leaves any other as sent.
func normalizeMethod(m string) string {
	for _, k := range knownMethods {
		if strings.EqualFold(m, k) {
			return k
		}
	}
	return m
}

// rebuildQuery is QueryHelpers.AddQueryString over the parsed query: repeated keys
// comma-joined, keys and values re-encoded with UrlEncoder.Default (space as %20).
func rebuildQuery(raw string) string {
	pairs := orderedQuery(raw)
	if len(pairs) == 0 {
		return ""
	}
	var b strings.Builder
	for i, kv := range pairs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(urlEncode(kv[0]))
		b.WriteByte('=')
		b.WriteString(urlEncode(kv[1]))
	}
	return b.String()
}

// urlEncode percent-encodes everything but RFC 3986 unreserved characters.
func urlEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
