package host

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// invocationPayload is the body of POST /{FunctionName}: exactly Data and Metadata.
type invocationPayload struct {
	Data     map[string]any `json:"Data"`
	Metadata map[string]any `json:"Metadata"`
}

// marshal encodes v like Newtonsoft: no HTML escaping of <, > and &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// encodeValue converts one Data or Metadata value as GetHttpScriptInvocationContextValue does
// (StyleHost): bytes → base64, objects and arrays → JSON as they are, everything else
// (strings, numbers, bools) → JsonConvert.SerializeObject(value) placed in a JSON string.
// StyleDocs keeps strings, numbers and bools single-encoded. A nil value is omitted.
func encodeValue(style PayloadStyle, v any) (any, bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, false, nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), true, nil
	case json.RawMessage:
		var decoded any
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		if err := dec.Decode(&decoded); err != nil {
			return nil, false, fmt.Errorf("decode raw value: %w", err)
		}
		return encodeValue(style, decoded)
	case string, bool, json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		if style == StyleDocs {
			return x, true, nil
		}
		b, err := marshal(x)
		if err != nil {
			return nil, false, fmt.Errorf("encode value: %w", err)
		}
		return string(b), true, nil
	case time.Time:
		return x.UTC().Format(netTimeLayout), true, nil
	}
	return v, true, nil
}

// netTimeLayout formats like .NET's round-trip DateTime: up to 7 fractional digits, trailing zeros trimmed.
const netTimeLayout = "2006-01-02T15:04:05.9999999Z07:00"

// sysMetadata is SystemBindingData: MethodName, UtcNow, RandGuid.
func sysMetadata(function string) map[string]any {
	return map[string]any{
		"MethodName": function,
		"UtcNow":     time.Now().UTC().Truncate(100 * time.Nanosecond).Format(netTimeLayout),
		"RandGuid":   newGUID(),
	}
}

// requestHeaders are the request's headers as ASP.NET Core holds them: Host and
// Transfer-Encoding too (net/http keeps those outside Header).
func requestHeaders(r *http.Request) map[string][]string {
	headers := map[string][]string{"Host": {r.Host}}
	for k, v := range r.Header {
		headers[k] = v
	}
	if len(r.TransferEncoding) > 0 {
		headers["Transfer-Encoding"] = r.TransferEncoding
	}
	return headers
}

// requestObject builds Data.<req> as HttpRequest.GetRequestAsJObject does: Url is
// "{http|https}://{Host}{Path}{QueryString}" with Path escaped by PathString.ToString.
func requestObject(style PayloadStyle, r *http.Request, in incoming, body []byte, params map[string]string, authLevel string) (map[string]any, error) {
	query := queryObject(r.URL.RawQuery)
	headers := requestHeaders(r)
	rawQuery := ""
	if r.URL.RawQuery != "" {
		rawQuery = "?" + r.URL.RawQuery
	}
	req := map[string]any{
		"Url":        in.scheme + "://" + r.Host + uriPath(in.path) + rawQuery,
		"Method":     r.Method,
		"Query":      query,
		"Headers":    headers,
		"Params":     params,
		"Identities": identities(authLevel),
	}
	if style == StyleDocs {
		b, err := marshal(query)
		if err != nil {
			return nil, fmt.Errorf("encode query: %w", err)
		}
		req["Query"] = string(b)
	}
	if len(body) > 0 {
		if isBinaryContent(r.Header.Get("Content-Type")) {
			req["Body"] = base64.StdEncoding.EncodeToString(body)
		} else {
			req["Body"] = string(body)
		}
	}
	return req, nil
}

// isBinaryContent reports application/octet-stream and multipart/*: bodies sent as byte[] (base64).
func isBinaryContent(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/octet-stream" || strings.HasPrefix(mt, "multipart/")
}

// queryObject parses the query like ASP.NET: repeated keys comma-joined into one string.
func queryObject(raw string) map[string]string {
	q := map[string]string{}
	for _, kv := range orderedQuery(raw) {
		q[kv[0]] = kv[1]
	}
	return q
}

// orderedQuery returns [key, comma-joined values] pairs in order of first appearance.
func orderedQuery(raw string) [][2]string {
	var out [][2]string
	index := map[string]int{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || k == "" {
			continue
		}
		if i, ok := index[strings.ToLower(k)]; ok {
			out[i][1] += "," + v
			continue
		}
		index[strings.ToLower(k)] = len(out)
		out = append(out, [2]string{k, v})
	}
	return out
}

// identities is the serialized ClaimsIdentity the host attaches for the key-based auth level.
func identities(level string) []any {
	if level == "" || level == "Anonymous" {
		return []any{}
	}
	return []any{map[string]any{
		"AuthenticationType": "WebJobsAuthLevel",
		"IsAuthenticated":    true,
		"Actor":              nil,
		"BootstrapContext":   nil,
		"Claims": []any{map[string]any{
			"Issuer":         "LOCAL AUTHORITY",
			"OriginalIssuer": "LOCAL AUTHORITY",
			"Properties":     map[string]any{},
			"Type":           "http://schemas.microsoft.com/2017/07/functions/claims/authlevel",
			"Value":          level,
			"ValueType":      "http://www.w3.org/2001/XMLSchema#string",
		}},
		"Label":         nil,
		"Name":          nil,
		"NameClaimType": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
		"RoleClaimType": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
	}}
}

// httpMetadata is the HTTP trigger's binding data (GetRequestBindingData): top-level non-array
// properties of a JSON body, query parameters except code, route values, Query, Headers
// (comma-joined) and sys. Keys ending in "trigger" and null values are excluded.
func httpMetadata(style PayloadStyle, f *function, r *http.Request, body []byte, params map[string]string) (map[string]any, error) {
	md := map[string]any{}
	put := func(k string, v any) error {
		if strings.HasSuffix(strings.ToLower(k), "trigger") {
			return nil
		}
		ev, ok, err := encodeValue(style, v)
		if err != nil {
			return err
		}
		if ok {
			md[k] = ev
		}
		return nil
	}
	if len(body) > 0 {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) == nil {
			for k, raw := range obj {
				if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
					continue
				}
				if err := put(k, raw); err != nil {
					return nil, err
				}
			}
		}
	}
	query := queryObject(r.URL.RawQuery)
	for k, v := range query {
		if strings.EqualFold(k, "code") {
			continue
		}
		if err := put(k, v); err != nil {
			return nil, err
		}
	}
	for k, v := range params {
		if err := put(k, v); err != nil {
			return nil, err
		}
	}
	headers := map[string]string{}
	for k, v := range requestHeaders(r) {
		headers[k] = strings.Join(v, ",")
	}
	md["Query"] = query
	md["Headers"] = headers
	md["sys"] = sysMetadata(f.name)
	return md, nil
}

// httpPayload builds the whole invocation body for an HTTP-triggered function.
func httpPayload(style PayloadStyle, f *function, r *http.Request, in incoming, body []byte, params map[string]string, level string) ([]byte, error) {
	req, err := requestObject(style, r, in, body, params, level)
	if err != nil {
		return nil, err
	}
	md, err := httpMetadata(style, f, r, body, params)
	if err != nil {
		return nil, err
	}
	return marshal(invocationPayload{Data: map[string]any{f.trigger.Name: req}, Metadata: md})
}

// triggerPayload builds the invocation body for a non-HTTP function from caller-supplied input
// values (keyed by input binding name) and trigger metadata.
func triggerPayload(style PayloadStyle, f *function, data, metadata map[string]any) ([]byte, error) {
	p := invocationPayload{Data: map[string]any{}, Metadata: map[string]any{}}
	for k, v := range data {
		b := f.input(k)
		if b == nil {
			return nil, fmt.Errorf("function %s has no input binding %q", f.name, k)
		}
		ev, ok, err := encodeValue(style, v)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", k, err)
		}
		if ok {
			p.Data[b.Name] = ev
		}
	}
	for k, v := range metadata {
		if strings.HasSuffix(strings.ToLower(k), "trigger") {
			continue
		}
		ev, ok, err := encodeValue(style, v)
		if err != nil {
			return nil, fmt.Errorf("metadata %s: %w", k, err)
		}
		if ok {
			p.Metadata[k] = ev
		}
	}
	p.Metadata["sys"] = sysMetadata(f.name)
	return marshal(p)
}
