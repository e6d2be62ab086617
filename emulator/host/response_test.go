package host

import (
	"bytes"
	"errors"
	"testing"
)

func TestHTTPResponseRules(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	text, none := "text/plain", ""
	for _, tc := range []struct {
		name     string
		path     string
		script   map[string]any
		status   int
		body     string
		ctype    string
		lostLogs string
		header   map[string]string
	}{
		{name: "non-2xx is an empty 500 and logs are lost", path: "/api/raw", script: map[string]any{"status": 400, "body": `{"Logs":["lost-400"]}`}, status: 500, lostLogs: "lost-400"},
		{name: "text/plain answer is rejected", path: "/api/raw", script: map[string]any{"contentType": text, "body": `{"Logs":["lost-text"]}`}, status: 500, lostLogs: "lost-text"},
		{name: "missing content type is rejected", path: "/api/raw", script: map[string]any{"contentType": none, "body": `{}`}, status: 500},
		{name: "invalid JSON is rejected", path: "/api/raw", script: map[string]any{"body": `{nope`}, status: 500},
		{name: "unknown keys are a no-op", path: "/api/raw", script: map[string]any{"body": `{"key1":"value1"}`}, status: 200},
		{name: "statusCode string", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":{"statusCode":"201","body":"my world"}}}`}, status: 201, body: "my world", ctype: "text/plain; charset=utf-8"},
		{name: "statusCode number", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":{"statusCode":202,"body":"x"}}}`}, status: 202, body: "x"},
		{name: "status is ignored", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":{"status":404,"body":"x"}}}`}, status: 200, body: "x"},
		{name: "keys are case-insensitive at the top, case-sensitive in Outputs", path: "/api/raw", script: map[string]any{"body": `{"outputs":{"res":{"StatusCode":203}}}`}, status: 203},
		{name: "Outputs key with other case does not match", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"RES":{"statusCode":203,"body":"x"}}}`}, status: 200, body: ""},
		{name: "headers ToString'd, object body indented in key order", path: "/api/raw",
			script: map[string]any{"body": `{"Outputs":{"res":{"statusCode":200,"headers":{"Content-Type":"application/json","X-Num":5,"X-Bool":true},"body":{"b":1,"a":[1,2]}}}}`},
			status: 200, body: "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}", ctype: "application/json", header: map[string]string{"X-Num": "5", "X-Bool": "True"}},
		{name: "res as a string holding JSON", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":"{\"statusCode\":204}"}}`}, status: 204},
		{name: "res as a plain string fails", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":"SomeBlah"}}`}, status: 500},
		{name: "null content-type header fails", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":{"headers":{"Content-Type":null},"body":"x"}}}`}, status: 500},
		{name: "named res body is not base64-decoded", path: "/api/raw", script: map[string]any{"body": `{"Outputs":{"res":{"body":"QUJD"}}}`}, status: 200, body: "QUJD"},
		{name: "$return base64 quirk", path: "/api/retfn", script: map[string]any{"body": `{"ReturnValue":"QUJD"}`}, status: 200, body: "ABC"},
		{name: "$return JSON with body honours statusCode", path: "/api/retfn", script: map[string]any{"body": `{"ReturnValue":"{\"statusCode\":201,\"body\":\"x y\"}"}`}, status: 201, body: "x y"},
		{name: "$return object without body is the 200 body", path: "/api/retfn", script: map[string]any{"body": `{"ReturnValue":{"statusCode":201}}`}, status: 200, body: "{\n  \"statusCode\": 201\n}"},
		{name: "$return plain text", path: "/api/retfn", script: map[string]any{"body": `{"ReturnValue":"hello there"}`}, status: 200, body: "hello there", ctype: "text/plain; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := a.script(t, tc.path, tc.script)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			for k, v := range tc.header {
				if resp.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, resp.Header.Get(k), v)
				}
			}
			if tc.lostLogs != "" {
				if _, ok := a.logs.find(tc.lostLogs); ok {
					t.Errorf("Logs of a failed invocation were logged")
				}
			}
		})
	}
}

func TestNonHTTPOutputsAndBase64Quirk(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	invoke := func(fn, handlerBody string) *InvocationResult {
		t.Helper()
		res, err := a.h.Invoke(ctxT(t), fn, map[string]any{"msg": `{"body":` + quote(handlerBody) + `}`})
		must(t, err)
		return res
	}
	res := invoke("queue", `{"Outputs":{"outq":"test","bin":"QUJD","$return":"ignored","nope":"x"},"ReturnValue":"QUJD","Logs":["l1"]}`)
	if got, ok := res.Outputs["outq"][0].([]byte); !ok || !bytes.Equal(got, []byte{0xb5, 0xeb, 0x2d}) {
		t.Errorf(`outq "test" = %#v, want base64-decoded bytes`, res.Outputs["outq"])
	}
	if got := res.Outputs["bin"]; len(got) != 1 || got[0] != "QUJD" {
		t.Errorf("binary output = %#v, want the string as is", got)
	}
	if got, ok := res.Outputs["$return"][0].([]byte); !ok || string(got) != "ABC" {
		t.Errorf("$return = %#v, want ReturnValue base64-decoded", res.Outputs["$return"])
	}
	if _, ok := res.Outputs["nope"]; ok || len(res.Logs) != 1 {
		t.Errorf("outputs %v logs %v", res.Outputs, res.Logs)
	}

	res = invoke("queue", `{"Outputs":{"outq":["test",{"a":1},"two"]}}`)
	if got := res.Outputs["outq"]; len(got) != 3 || got[0] != "test" {
		t.Errorf("array output = %#v, want 3 messages", got)
	}
	res = invoke("queue", `{"Outputs":{"outq":"hello world"}}`)
	if got := res.Outputs["outq"]; got[0] != "hello world" {
		t.Errorf("non-base64 text = %#v", got)
	}
	res = invoke("queue", `{"Outputs":{"outq":"abcd efgh"}}`)
	if _, ok := res.Outputs["outq"][0].([]byte); !ok {
		t.Errorf(".NET ignores whitespace in base64: %#v should be bytes", res.Outputs["outq"])
	}
	res = invoke("merge", `{"ReturnValue":{"outq":"x y z"}}`)
	if got := res.Outputs["outq"]; len(got) != 1 || got[0] != "x y z" {
		t.Errorf("object ReturnValue merged into outputs = %#v", got)
	}

	_, err := a.h.Invoke(ctxT(t), "queue", map[string]any{"msg": `{"status":500,"body":"{\"Logs\":[\"gone\"]}"}`})
	if !errors.Is(err, ErrInvocationFailed) {
		t.Errorf("non-2xx: %v", err)
	}
}

func quote(s string) string {
	b, _ := marshal(s)
	return string(b)
}
