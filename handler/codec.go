package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// stringsMap is a JSON object of string values as the host writes Query, Headers and Params:
// values may be strings, arrays of strings (Headers), other scalars, or null (skipped), and the
// whole object may arrive as a JSON string holding the object (the docs' "Query": "{}").
type stringsMap map[string][]string

// UnmarshalJSON implements json.Unmarshaler with the tolerance described on stringsMap.
func (m *stringsMap) UnmarshalJSON(data []byte) error {
	if isJSONNull(data) {
		return nil
	}
	var s string
	if json.Unmarshal(data, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		data = []byte(s)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("want an object of strings: %w", err)
	}
	out := make(stringsMap, len(obj))
	for k, raw := range obj {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			list = []json.RawMessage{raw}
		}
		for _, item := range list {
			if isJSONNull(item) {
				continue
			}
			var v string
			if json.Unmarshal(item, &v) != nil {
				v = string(bytes.TrimSpace(item))
			}
			out[k] = append(out[k], v)
		}
	}
	*m = out
	return nil
}

// Claim is one claim of a ClaimsIdentity the host serialized in the request's Identities.
type Claim struct {
	Type   string `json:"Type"`
	Value  string `json:"Value"`
	Issuer string `json:"Issuer"`
}

// Identity is one serialized .NET ClaimsIdentity from the payload's Identities (for example
// AuthenticationType "WebJobsAuthLevel" with an authlevel claim, or App Service authentication).
type Identity struct {
	AuthenticationType string  `json:"AuthenticationType"`
	IsAuthenticated    bool    `json:"IsAuthenticated"`
	Name               string  `json:"Name"`
	Claims             []Claim `json:"Claims"`
}

// identitiesKey is the context key of a payload-mode request's identities.
type identitiesKey struct{}

// Identities returns the identities the host attached to a payload-mode HTTP request, or nil
// (forwarded mode carries none).
func Identities(ctx context.Context) []Identity {
	ids, _ := ctx.Value(identitiesKey{}).([]Identity)
	return ids
}

// httpRequestData is Data[<httpTrigger name>] as GetRequestAsJObject writes it.
type httpRequestData struct {
	URL        string          `json:"Url"`
	Method     string          `json:"Method"`
	Query      stringsMap      `json:"Query"`
	Headers    stringsMap      `json:"Headers"`
	Params     stringsMap      `json:"Params"`
	Body       json.RawMessage `json:"Body"`
	Identities []Identity      `json:"Identities"`
}

// newHTTPRequest rebuilds the client's request from the trigger's Data entry. The URL comes from
// Url (which keeps repeated query keys), else from the route prefix, the function name and Query;
// route values become path values; a base64 Body is decoded for the content types the host
// encodes (application/octet-stream, multipart/*).
func newHTTPRequest(ctx context.Context, raw json.RawMessage, prefix, function string) (*http.Request, error) {
	var d httpRequestData
	if err := decodeLenient(raw, &d); err != nil {
		return nil, fmt.Errorf("http trigger data: %w", err)
	}
	u, err := requestURL(d, prefix, function)
	if err != nil {
		return nil, err
	}
	method := d.Method
	if method == "" {
		method = http.MethodGet
	}
	body, err := requestBody(d)
	if err != nil {
		return nil, err
	}
	if d.Identities != nil {
		ctx = context.WithValue(ctx, identitiesKey{}, d.Identities)
	}
	r, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("http trigger data: %w", err)
	}
	r.RequestURI = u.RequestURI()
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	for k, vs := range d.Headers {
		ck := http.CanonicalHeaderKey(k)
		switch ck {
		case "Host", "Content-Length":
		case "Transfer-Encoding":
			r.TransferEncoding = append(r.TransferEncoding, vs...)
		default:
			r.Header[ck] = append(r.Header[ck], vs...)
		}
	}
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		r.Body = http.NoBody
		if len(r.TransferEncoding) > 0 {
			// The client framed a body without a length (chunked), and the host puts Body in
			// the payload only for Content-Length > 0 (GetRequestAsJObject): its length is
			// unknown, as net/http reports a chunked body, and it did not arrive.
			r.ContentLength = -1
		}
	}
	for k, vs := range d.Params {
		if k == "" {
			continue
		}
		r.SetPathValue(k, encodedSlash.Replace(strings.Join(vs, ",")))
	}
	return r, nil
}

// encodedSlash decodes the one escape a route value keeps: Kestrel decodes the path except %2F,
// so the host's route value for a%2Fb is "a%2Fb", where forwarded mode's r.PathValue gives "a/b".
var encodedSlash = strings.NewReplacer("%2F", "/", "%2f", "/")

// requestURL picks the request URL: Url when it parses, else /<prefix>/<function>?<Query>.
func requestURL(d httpRequestData, prefix, function string) (*url.URL, error) {
	if d.URL != "" {
		u, err := url.Parse(d.URL)
		if err != nil {
			return nil, errors.New("http trigger data: Url is not a URL")
		}
		if u.Host == "" {
			u.Host = "localhost"
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			u.Scheme = "http"
		}
		if u.RawQuery == "" && len(d.Query) > 0 {
			u.RawQuery = url.Values(d.Query).Encode()
		}
		return u, nil
	}
	path := "/" + function
	if prefix != "" {
		path = "/" + prefix + path
	}
	return &url.URL{Scheme: "http", Host: "localhost", Path: path, RawQuery: url.Values(d.Query).Encode()}, nil
}

// requestBody returns the body bytes: Body's string content (or the JSON text of a non-string
// Body), base64-decoded when the host sent bytes. A Body that should be base64 but is not is kept
// as sent.
func requestBody(d httpRequestData) ([]byte, error) {
	if isJSONNull(d.Body) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(d.Body, &s); err != nil {
		if !json.Valid(d.Body) {
			return nil, errors.New("http trigger data: Body is not valid JSON")
		}
		return bytes.TrimSpace(d.Body), nil
	}
	if ct := d.Headers.get("Content-Type"); hostSendsBytes(ct) {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return []byte(s), nil
}

// get returns the first value of header name (case-insensitive), or "".
func (m stringsMap) get(name string) string {
	for k, vs := range m {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// hostSendsBytes reports whether the host base64-encodes a request body of this content type
// (IsMediaTypeOctetOrMultipart: application/octet-stream, or a media type containing "multipart/").
func hostSendsBytes(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.TrimSpace(mt)
	}
	mt = strings.ToLower(mt)
	return mt == "application/octet-stream" || strings.Contains(mt, "multipart/")
}

// httpOutput is the HTTP output binding value the host deserializes (HttpOutputBindingResponse).
// statusCode is a string (status alone is ignored by the host), header values are strings, and
// body is always present because a $return value is honoured as a response only with a body key.
type httpOutput struct {
	StatusCode string            `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// errBinaryBody means a response body is not valid UTF-8 and cannot travel in a JSON string.
var errBinaryBody = errors.New("response body is not valid UTF-8")

// newHTTPOutput converts a recorded response into the HTTP output binding value. Multi-valued
// headers are comma-joined; a body without Content-Type gets the sniffed type net/http would send.
func newHTTPOutput(method string, rec *recorder) (httpOutput, error) {
	status := rec.statusCode()
	body := rec.body.Bytes()
	if method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified {
		body = nil
	}
	if !utf8.Valid(body) {
		return httpOutput{}, errBinaryBody
	}
	out := httpOutput{StatusCode: strconv.Itoa(status), Headers: map[string]string{}, Body: string(body)}
	for k, vs := range rec.header {
		if len(vs) == 0 || k == "Content-Length" || k == "Transfer-Encoding" {
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	if _, ok := out.Headers["Content-Type"]; !ok && len(body) > 0 {
		out.Headers["Content-Type"] = http.DetectContentType(body)
	}
	return out, nil
}

// hostDecodesBase64 reports whether the host's GetBindingValue would turn s into bytes:
// Convert.FromBase64String ignores spaces, tabs and line breaks, then needs whole 4-character
// groups of the standard alphabet with at most two '=' of padding (the empty string qualifies).
func hostDecodesBase64(s string) bool {
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if len(compact)%4 != 0 {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(compact)
	return err == nil
}

// protectOutput returns the value to send for a non-HTTP output binding so that the host's base64
// quirk delivers what the function meant: a string the host would decode is sent base64-encoded,
// so decoding yields its UTF-8 bytes. Binary bindings (passed as-is) and non-strings are unchanged.
func protectOutput(b Binding, v any) any {
	if strings.EqualFold(b.DataType, "binary") {
		return v
	}
	if s, ok := v.(string); ok && hostDecodesBase64(s) {
		return base64.StdEncoding.EncodeToString([]byte(s))
	}
	return v
}

// outputsFor keys outputs by the exact binding names of fn (the host matches Outputs keys
// case-sensitively), protects non-HTTP values from the base64 quirk, and returns the names that
// match no output binding (the host would drop them).
func outputsFor(fn *Function, outputs map[string]any) (map[string]any, []string) {
	out := make(map[string]any, len(outputs))
	var unknown []string
	for name, v := range outputs {
		b, ok := fn.binding(name)
		if !ok || !strings.EqualFold(b.Direction, "out") {
			unknown = append(unknown, name)
			out[name] = v
			continue
		}
		if strings.EqualFold(b.Type, "http") {
			out[b.Name] = v
			continue
		}
		out[b.Name] = protectOutput(b, v)
	}
	slices.Sort(unknown)
	return out, unknown
}
