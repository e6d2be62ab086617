package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// InvocationHandler runs one payload-mode invocation of a function of any trigger type.
type InvocationHandler interface {
	Invoke(ctx context.Context, inv *Invocation) (*Result, error)
}

// InvocationHandlerFunc adapts a function to an InvocationHandler.
type InvocationHandlerFunc func(ctx context.Context, inv *Invocation) (*Result, error)

// Invoke calls f(ctx, inv).
func (f InvocationHandlerFunc) Invoke(ctx context.Context, inv *Invocation) (*Result, error) {
	return f(ctx, inv)
}

// Invocation is one payload-mode invocation request: Data holds one entry per input binding,
// keyed by binding name, and Metadata the trigger's binding data, both as the host sent them.
type Invocation struct {
	FunctionName string
	InvocationID string
	Data         map[string]json.RawMessage
	Metadata     map[string]json.RawMessage
}

// Result is what an InvocationHandler answers: output binding values keyed by binding name,
// log lines for the invocation, and the value of a $return binding.
//
// A string sent to a non-binary output binding is protected from the host's base64 quirk (the
// host decodes every string that is valid base64 into bytes): such a string is sent base64-encoded,
// so the binding receives exactly its UTF-8 bytes. A []byte value is sent as base64 and arrives as
// those bytes. Objects and arrays are passed through untouched by the host.
type Result struct {
	Outputs     map[string]any
	Logs        []string
	ReturnValue any
}

// ErrNoData is returned by Decode and DecodeMetadata when the named entry is absent or null.
var ErrNoData = errors.New("handler: no such invocation data")

// Decode stores Data[name] in v (a non-nil pointer), tolerant of how the host encodes values:
// strings arrive double-encoded ("\"hello\""), numbers and booleans as strings ("4"), bytes as
// base64 (decoded when v is *[]byte), and objects either as objects or as JSON text in a string.
func (inv *Invocation) Decode(name string, v any) error {
	return decodeEntry(inv.Data, name, v)
}

// DecodeMetadata stores Metadata[name] in v with the same tolerance as Decode.
func (inv *Invocation) DecodeMetadata(name string, v any) error {
	return decodeEntry(inv.Metadata, name, v)
}

// decodeEntry looks up name in m and decodes it leniently into v.
func decodeEntry(m map[string]json.RawMessage, name string, v any) error {
	raw, ok := m[name]
	if !ok || isJSONNull(raw) {
		return fmt.Errorf("%w: %q", ErrNoData, name)
	}
	if err := decodeLenient(raw, v); err != nil {
		return fmt.Errorf("decode %q: %w", name, err)
	}
	return nil
}

// maxUnwrap bounds how many JSON-string layers decodeLenient peels: the host adds one layer to a
// string, and a JSON document sent as a string message adds another.
const maxUnwrap = 3

// decodeLenient decodes raw into v, peeling JSON-string layers until a layer decodes. Each attempt
// decodes into a fresh value so a failed attempt leaves no partial result behind.
func decodeLenient(raw json.RawMessage, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("target must be a non-nil pointer")
	}
	switch p := v.(type) {
	case *string:
		s, err := unwrapString(raw)
		if err != nil {
			return err
		}
		*p = s
		return nil
	case *[]byte:
		s, err := unwrapString(raw)
		if err != nil {
			return err
		}
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			*p = b
		} else {
			*p = []byte(s)
		}
		return nil
	}
	cur := []byte(raw)
	var firstErr error
	for range maxUnwrap + 1 {
		tmp := reflect.New(rv.Elem().Type())
		err := json.Unmarshal(cur, tmp.Interface())
		if err == nil {
			rv.Elem().Set(tmp.Elem())
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
		var s string
		if json.Unmarshal(cur, &s) != nil {
			break
		}
		cur = []byte(s)
	}
	return firstErr
}

// unwrapString returns the text of raw: a JSON string's content, unquoted once more when that
// content is itself a JSON string literal (the host's double encoding), or the JSON text of any
// other value.
func unwrapString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		if !json.Valid(raw) {
			return "", err
		}
		return string(bytes.TrimSpace(raw)), nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var inner string
		if json.Unmarshal([]byte(s), &inner) == nil {
			return inner, nil
		}
	}
	return s, nil
}

// isJSONNull reports whether raw is the JSON literal null (or empty).
func isJSONNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// invocationRequest is the body the host POSTs to /<FunctionName>.
type invocationRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// decodeInvocation parses a payload-mode request body. Keys match case-insensitively; a body that
// is itself a JSON string holding the object is accepted too.
func decodeInvocation(body []byte) (*Invocation, error) {
	var req invocationRequest
	if err := decodeLenient(body, &req); err != nil {
		return nil, fmt.Errorf("invocation request: %w", err)
	}
	if req.Data == nil {
		req.Data = map[string]json.RawMessage{}
	}
	if req.Metadata == nil {
		req.Metadata = map[string]json.RawMessage{}
	}
	return &Invocation{Data: req.Data, Metadata: req.Metadata}, nil
}
