package host

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// InvocationResult is what the host made of one payload-mode invocation.
type InvocationResult struct {
	// InvocationID is the X-Azure-Functions-InvocationId sent to the handler.
	InvocationID string
	// StatusCode and ContentType are the handler's HTTP response status and media type.
	StatusCode  int
	ContentType string
	// Raw is the handler's response body as received.
	Raw []byte
	// Outputs holds, per non-HTTP output binding, the values handed to the binding: a JSON array
	// becomes several values; a top-level string that is valid base64 becomes []byte unless the
	// binding has dataType binary (the host's quirk); other values are decoded JSON.
	Outputs map[string][]any
	// Logs are the invocation's Logs entries (empty when the invocation failed: the host drops them).
	Logs []string
	// HTTP is the response the client gets, for functions with an http output.
	HTTP *HTTPResponse
}

// HTTPResponse is an HTTP output binding turned into a client response.
type HTTPResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// handlerResult is HttpScriptInvocationResult; Go matches the keys case-insensitively, as
// Newtonsoft does, while Outputs keys stay case-sensitive.
type handlerResult struct {
	Outputs     map[string]json.RawMessage `json:"Outputs"`
	Logs        []json.RawMessage          `json:"Logs"`
	ReturnValue json.RawMessage            `json:"ReturnValue"`
}

// parseResult applies sections 3.4–3.5: 2xx required, JSON content type required, then
// outputs, $return, logs and the HTTP response. On error res keeps StatusCode and Raw only.
func parseResult(f *function, res *InvocationResult) error {
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%w: response status code does not indicate success: %d", ErrInvocationFailed, res.StatusCode)
	}
	mt, _, _ := mime.ParseMediaType(res.ContentType)
	if mt != "application/json" && mt != "text/json" {
		return fmt.Errorf("%w: Invalid HttpResponseMessage: no MediaTypeFormatter is available to read HttpScriptInvocationResult from content with media type %q", ErrInvocationFailed, res.ContentType)
	}
	var hr handlerResult
	if err := json.Unmarshal(res.Raw, &hr); err != nil {
		return fmt.Errorf("%w: Invalid HttpResponseMessage: StatusCode: %d, body is not a valid result: %w", ErrInvocationFailed, res.StatusCode, err)
	}
	outputs := map[string]json.RawMessage{}
	for k, v := range hr.Outputs {
		outputs[k] = v
	}
	_, hasReturnBinding := f.output("$return")
	rv := bytes.TrimSpace(hr.ReturnValue)
	if len(rv) > 0 && !bytes.Equal(rv, []byte("null")) {
		if hasReturnBinding {
			outputs["$return"] = rv
		} else if rv[0] == '{' {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(rv, &obj); err == nil {
				for k, v := range obj {
					outputs[k] = v
				}
			}
		}
	}
	res.Outputs = map[string][]any{}
	for _, b := range f.bindings {
		if !b.isOut() {
			continue
		}
		raw, ok := outputs[b.Name]
		if !ok {
			continue
		}
		if strings.EqualFold(b.Type, "http") {
			var (
				resp *HTTPResponse
				err  error
			)
			if b.Name == "$return" {
				resp, err = returnHTTPResponse(b, raw)
			} else {
				resp, err = namedHTTPResponse(b.Name, raw)
			}
			if err != nil {
				return fmt.Errorf("%w: %w", ErrInvocationFailed, err)
			}
			res.HTTP = resp
			continue
		}
		vals, err := bindingValues(b.DataType, raw)
		if err != nil {
			return fmt.Errorf("%w: output %s: %w", ErrInvocationFailed, b.Name, err)
		}
		res.Outputs[b.Name] = vals
	}
	for _, l := range hr.Logs {
		var s string
		if json.Unmarshal(l, &s) == nil {
			res.Logs = append(res.Logs, s)
		} else {
			res.Logs = append(res.Logs, string(l))
		}
	}
	return nil
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// bindingValues is GetBindingValue plus the collector's array expansion.
func bindingValues(dataType string, raw json.RawMessage) ([]any, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	if arr, ok := v.([]any); ok {
		return arr, nil
	}
	return []any{base64Quirk(dataType, v)}, nil
}

// base64Quirk: unless dataType is binary, a string that is valid base64 (.NET rules: whitespace
// ignored, padding required) is decoded to bytes; anything else is kept.
func base64Quirk(dataType string, v any) any {
	s, ok := v.(string)
	if !ok || strings.EqualFold(dataType, "binary") {
		return v
	}
	if b, ok := netBase64(s); ok {
		return b
	}
	return s
}

func netBase64(s string) ([]byte, bool) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil {
		// .NET accepts non-canonical padding bits; retry leniently.
		b, err = base64.StdEncoding.DecodeString(clean)
	}
	return b, err == nil
}

// namedHTTPResponse is GetHttpOutputBindingResponse + HttpBinding.CreateResult for an output like
// "res": an object (or a string holding a JSON object) with statusCode, headers and body;
// status is ignored.
func namedHTTPResponse(name string, raw json.RawMessage) (*HTTPResponse, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if v, err = decodeJSON([]byte(s)); err != nil {
			v = nil
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Failed while trying to Deserialize to httpOutputBindingResponse for output %q", name)
	}
	return responseFromObject(obj, rawField(raw, "body"))
}

// returnHTTPResponse handles an http output named $return: the base64 quirk first, then a JSON
// object honours statusCode and headers only if it has a body key; otherwise the whole value is
// the 200 body.
func returnHTTPResponse(b binding, raw json.RawMessage) (*HTTPResponse, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	v = base64Quirk(b.DataType, v)
	switch x := v.(type) {
	case []byte:
		return plainResponse(x), nil
	case string:
		parsed, err := decodeJSON([]byte(x))
		obj, isObj := parsed.(map[string]any)
		if err != nil || !isObj {
			return plainResponse([]byte(x)), nil
		}
		if _, ok := fieldCI(obj, "body"); ok {
			return responseFromObject(obj, rawField([]byte(x), "body"))
		}
		return plainResponse(indentJSON([]byte(x))), nil
	case map[string]any:
		if _, ok := fieldCI(x, "body"); ok {
			return responseFromObject(x, rawField(raw, "body"))
		}
		return plainResponse(indentJSON(raw)), nil
	}
	return plainResponse([]byte(netString(v, raw))), nil
}

func plainResponse(body []byte) *HTTPResponse {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	return &HTTPResponse{StatusCode: http.StatusOK, Header: h, Body: body}
}

// responseFromObject applies statusCode (number or numeric string, default 200), headers (each
// value ToString'd) and body (string as is, object/array as indented JSON, null empty).
func responseFromObject(obj map[string]any, bodyRaw json.RawMessage) (*HTTPResponse, error) {
	resp := &HTTPResponse{StatusCode: http.StatusOK, Header: http.Header{}}
	if sc, ok := fieldCI(obj, "statusCode"); ok {
		switch x := sc.(type) {
		case json.Number:
			if n, err := strconv.Atoi(x.String()); err == nil {
				resp.StatusCode = n
			}
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				resp.StatusCode = n
			}
		}
	}
	if hv, ok := fieldCI(obj, "headers"); ok && hv != nil {
		hm, ok := hv.(map[string]any)
		if !ok {
			return nil, errors.New("http output headers must be an object")
		}
		for k, v := range hm {
			if strings.EqualFold(k, "content-type") && v == nil {
				return nil, errors.New("http output header content-type cannot be null")
			}
			if resp.Header.Get(k) != "" {
				continue
			}
			resp.Header.Set(k, netString(v, nil))
		}
	}
	body, _ := fieldCI(obj, "body")
	switch x := body.(type) {
	case nil:
	case string:
		resp.Body = []byte(x)
	case map[string]any, []any:
		resp.Body = indentJSON(bodyRaw)
	default:
		resp.Body = []byte(netString(x, nil))
	}
	if resp.Header.Get("Content-Type") == "" && len(resp.Body) > 0 {
		resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	return resp, nil
}

// fieldCI looks a key up case-insensitively.
func fieldCI(obj map[string]any, key string) (any, bool) {
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// rawField returns the raw JSON of a top-level key (case-insensitive), keeping key order.
func rawField(raw []byte, key string) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// indentJSON is JToken.ToString(): two-space indented JSON, key order kept.
func indentJSON(raw []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, bytes.TrimSpace(raw), "", "  ") != nil {
		return raw
	}
	return buf.Bytes()
}

// netString is .NET's ToString of a JSON value: strings as is, bools "True"/"False",
// numbers as written, objects and arrays as indented JSON.
func netString(v any, raw []byte) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	if raw == nil {
		raw, _ = marshal(v)
	}
	return string(indentJSON(raw))
}
