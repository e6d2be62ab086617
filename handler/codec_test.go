package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// Payloads as the custom-handler docs show them
// (https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers#request-payload) and
// as the host's code writes them (GetRequestAsJObject, ScriptInvocationContextExtensions in
// https://github.com/Azure/azure-functions-host): values double-encoded, Query an object.
const (
	docsHTTPPayload = `{
  "Data": {
    "req": {
      "Url": "http://localhost:7071/api/order",
      "Method": "POST",
      "Query": "{}",
      "Headers": {
        "Content-Type": [
          "application/json"
        ]
      },
      "Params": {},
      "Body": "{\"id\":1005,\"quantity\":2,\"color\":\"black\"}"
    }
  },
  "Metadata": {
  }
}`
	codeHTTPPayload = `{
  "Data": {
    "req": {
      "Url": "http://localhost:7071/api/endpoint",
      "Method": "POST",
      "Body": "{\"message\":\"hello\",\"number\":2}",
      "Params": {},
      "Query": {},
      "Headers": { "Content-Type": ["application/json"] },
      "Identities": [
        {
          "AuthenticationType": "WebJobsAuthLevel",
          "IsAuthenticated": true,
          "Actor": null,
          "BootstrapContext": null,
          "Claims": [
            {
              "Issuer": "LOCAL AUTHORITY",
              "OriginalIssuer": "LOCAL AUTHORITY",
              "Properties": {},
              "Type": "http://schemas.microsoft.com/2017/07/functions/claims/authlevel",
              "Value": "Admin",
              "ValueType": "http://www.w3.org/2001/XMLSchema#string"
            }
          ],
          "Label": null,
          "Name": null,
          "NameClaimType": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
          "RoleClaimType": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
        }
      ]
    }
  },
  "Metadata": {
    "Params": {},
    "Query": {},
    "Headers": { "Content-Type": "application/json" },
    "sys": {
      "MethodName": "helloHTTP",
      "UtcNow": "2023-10-12T20:13:49.640002Z",
      "RandGuid": "4e773554-f6b7-4ea2-b07d-4c5fd5aba741"
    }
  }
}`
	docsQueuePayload = `{
  "Data": {
    "myQueueItem": "{ message: \"Message sent\" }"
  },
  "Metadata": {
    "DequeueCount": 1,
    "ExpirationTime": "2019-10-16T17:58:31+00:00",
    "Id": "800ae4b3-bdd2-4c08-badd-f08e5a34b865",
    "InsertionTime": "2019-10-09T17:58:31+00:00",
    "NextVisibleTime": "2019-10-09T18:08:32+00:00",
    "PopReceipt": "AgAAAAMAAAAAAAAAAgtnj8x+1QE=",
    "sys": {
      "MethodName": "QueueTrigger",
      "UtcNow": "2019-10-09T17:58:32.2205399Z",
      "RandGuid": "24ad4c06-24ad-4e5b-8294-3da9714877e9"
    }
  }
}`
	fixtureQueuePayload = `{
  "Data": { "queue": "{\"message\":\"hello\",\"number\":2}" },
  "Metadata": {
    "DequeueCount": "1",
    "ExpirationTime": "2023-10-12T20:13:49.640002Z",
    "Id": "\"4e773554-f6b7-4ea2-b07d-4c5fd5aba741\"",
    "InsertionTime": "2023-10-12T20:13:49.640002Z",
    "NextVisibleTime": "2023-10-12T20:13:49.640002Z",
    "PopReceipt": "\"STRING\"",
    "sys": { "MethodName": "helloQueue", "UtcNow": "2023-10-12T20:13:49.640002Z", "RandGuid": "4e773554-f6b7-4ea2-b07d-4c5fd5aba741" }
  }
}`
	// codeQueuePayload is what the host code emits (DefaultHttpWorkerServiceTests): the string
	// message and metadata values JSON-serialized, then placed in JSON strings.
	codeQueuePayload = `{"Data":{"myqueueItem":"\"HelloWorld\"","jsonItem":"\"{\\\"message\\\":\\\"hello\\\",\\\"number\\\":2}\""},
  "Metadata":{"DequeueCount":"4","helloString":"\"helloMetadata\"","sys":{"MethodName":"q","UtcNow":"2023-10-12T20:13:49Z","RandGuid":"4e773554-f6b7-4ea2-b07d-4c5fd5aba741"}}}`
	timerPayload = `{
  "Data": {
    "timer": {
      "Schedule": { "AdjustForDST": true },
      "ScheduleStatus": {
        "Last": "2023-10-12T20:13:49.640002Z",
        "Next": "2023-10-12T20:13:49.640002Z",
        "LastUpdated": "2023-10-12T20:13:49.640002Z"
      },
      "IsPastDue": false
    }
  },
  "Metadata": {
    "sys": { "MethodName": "helloTimer", "UtcNow": "2023-10-12T20:13:49.640002Z", "RandGuid": "4e773554-f6b7-4ea2-b07d-4c5fd5aba741" }
  }
}`
)

type message struct {
	Message string `json:"message"`
	Number  int    `json:"number"`
}

type timerInfo struct {
	Schedule       struct{ AdjustForDST bool }
	ScheduleStatus *struct{ Last, Next, LastUpdated string }
	IsPastDue      bool
}

func TestDecodeValues(t *testing.T) {
	type check func(t *testing.T, inv *Invocation)
	str := func(from func(*Invocation, string, any) error, key, want string) check {
		return func(t *testing.T, inv *Invocation) {
			var got string
			if err := from(inv, key, &got); err != nil || got != want {
				t.Errorf("%s = %q, %v; want %q", key, got, err, want)
			}
		}
	}
	num := func(from func(*Invocation, string, any) error, key string, want int) check {
		return func(t *testing.T, inv *Invocation) {
			var got int
			if err := from(inv, key, &got); err != nil || got != want {
				t.Errorf("%s = %d, %v; want %d", key, got, err, want)
			}
		}
	}
	msg := func(key string) check {
		return func(t *testing.T, inv *Invocation) {
			var got message
			if err := inv.Decode(key, &got); err != nil || got != (message{"hello", 2}) {
				t.Errorf("%s = %+v, %v", key, got, err)
			}
		}
	}
	data := (*Invocation).Decode
	meta := (*Invocation).DecodeMetadata
	tests := []struct {
		name    string
		payload string
		checks  []check
	}{
		{"code queue: double-encoded string and numbers as strings", codeQueuePayload, []check{
			str(data, "myqueueItem", "HelloWorld"),
			msg("jsonItem"),
			num(meta, "DequeueCount", 4),
			str(meta, "DequeueCount", "4"),
			str(meta, "helloString", "helloMetadata"),
		}},
		{"fixture queue: single-encoded JSON message", fixtureQueuePayload, []check{
			msg("queue"),
			num(meta, "DequeueCount", 1),
			str(meta, "Id", "4e773554-f6b7-4ea2-b07d-4c5fd5aba741"),
			str(meta, "PopReceipt", "STRING"),
		}},
		{"docs queue: unquoted string and a number", docsQueuePayload, []check{
			str(data, "myQueueItem", `{ message: "Message sent" }`),
			num(meta, "DequeueCount", 1),
			str(meta, "DequeueCount", "1"),
			str(meta, "PopReceipt", "AgAAAAMAAAAAAAAAAgtnj8x+1QE="),
		}},
		{"timer object", timerPayload, []check{func(t *testing.T, inv *Invocation) {
			var ti timerInfo
			if err := inv.Decode("timer", &ti); err != nil || !ti.Schedule.AdjustForDST || ti.ScheduleStatus == nil || ti.IsPastDue {
				t.Errorf("timer = %+v, %v", ti, err)
			}
			var sys struct{ MethodName string }
			if err := inv.DecodeMetadata("sys", &sys); err != nil || sys.MethodName != "helloTimer" {
				t.Errorf("sys = %+v, %v", sys, err)
			}
		}}},
		{"base64 bytes", `{"Data":{"blob":"aGVsbG8="}}`, []check{func(t *testing.T, inv *Invocation) {
			var b []byte
			if err := inv.Decode("blob", &b); err != nil || string(b) != "hello" {
				t.Errorf("blob = %q, %v", b, err)
			}
		}}},
		{"lower-case keys", `{"data":{"x":"\"y\""},"metadata":{"n":"7"}}`, []check{
			str(data, "x", "y"), num(meta, "n", 7),
		}},
		{"missing and null entries", `{"Data":{"gone":null}}`, []check{func(t *testing.T, inv *Invocation) {
			var s string
			for _, key := range []string{"gone", "absent"} {
				if err := inv.Decode(key, &s); !errors.Is(err, ErrNoData) {
					t.Errorf("Decode(%q) = %v, want ErrNoData", key, err)
				}
			}
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := decodeInvocation([]byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				c(t, inv)
			}
		})
	}
}

func TestDecodeRefusesWrongShapes(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"Data":"x"}`, `{"Data":{"a":1}`} {
		if _, err := decodeInvocation([]byte(body)); err == nil {
			t.Errorf("decodeInvocation(%q) succeeded", body)
		}
	}
	inv, _ := decodeInvocation([]byte(`{"Data":{"n":"\"x\""}}`))
	var n int
	if err := inv.Decode("n", &n); err == nil {
		t.Errorf("decoding a string message into an int succeeded: %d", n)
	}
	if err := inv.Decode("n", n); err == nil {
		t.Error("decoding into a non-pointer succeeded")
	}
}

func TestNewHTTPRequest(t *testing.T) {
	tests := []struct {
		name, data        string
		method, url, body string
		header            map[string]string
		params            map[string]string
		identities        int
	}{
		{
			name: "docs shape: Query as a string",
			data: mustData(t, docsHTTPPayload, "req"), method: "POST", url: "http://localhost:7071/api/order",
			body:   `{"id":1005,"quantity":2,"color":"black"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "code shape with Identities", data: mustData(t, codeHTTPPayload, "req"), method: "POST",
			url: "http://localhost:7071/api/endpoint", body: `{"message":"hello","number":2}`, identities: 1,
		},
		{
			name:   "base64 body for application/octet-stream",
			data:   `{"Url":"https://fa.azurewebsites.net/api/cache/k","Method":"PUT","Headers":{"Content-Type":["application/octet-stream"]},"Params":{"key":"k"},"Body":"` + base64.StdEncoding.EncodeToString([]byte{0, 1, 0xff}) + `"}`,
			method: "PUT", url: "https://fa.azurewebsites.net/api/cache/k", body: "\x00\x01\xff", params: map[string]string{"key": "k"},
		},
		{
			name: "base64 body for multipart", data: `{"Url":"http://h/api/u","Method":"POST","Headers":{"content-type":["multipart/form-data; boundary=x"]},"Body":"` + base64.StdEncoding.EncodeToString([]byte("--x--")) + `"}`,
			method: "POST", url: "http://h/api/u", body: "--x--",
		},
		{
			name: "text body that looks like base64 stays text", data: `{"Url":"http://h/api/u","Method":"POST","Headers":{"Content-Type":["text/plain"]},"Body":"QUJD"}`,
			method: "POST", url: "http://h/api/u", body: "QUJD",
		},
		{
			name: "query from Url keeps repeats and code; headers joined", data: `{"Url":"http://h/api/items?a=1&a=2&code=k","Method":"get","Query":{"a":"1,2","code":"k"},"Headers":{"X-Multi":["a","b"],"Host":["h"]},"Params":{"id":"5","gone":null}}`,
			method: "GET", url: "http://h/api/items?a=1&a=2&code=k", header: map[string]string{"X-Multi": "a"}, params: map[string]string{"id": "5", "gone": ""},
		},
		{
			name: "no Url: built from prefix, function name and Query", data: `{"Method":"GET","Query":{"q":"x y"}}`,
			method: "GET", url: "http://localhost/api/fn?q=x+y",
		},
		{
			name: "route value keeps the %2F Kestrel does not decode", data: `{"Url":"http://h/api/cache/a%2Fb","Method":"GET","Params":{"key":"a%2Fb"}}`,
			method: "GET", url: "http://h/api/cache/a%2Fb", params: map[string]string{"key": "a/b"},
		},
		{
			name: "whole req double-encoded", data: `"{\"Url\":\"http://h/api/x\",\"Method\":\"DELETE\"}"`, method: "DELETE", url: "http://h/api/x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newHTTPRequest(context.Background(), json.RawMessage(tt.data), "api", "fn")
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != tt.method || r.URL.String() != tt.url {
				t.Errorf("request %s %s, want %s %s", r.Method, r.URL, tt.method, tt.url)
			}
			body, _ := io.ReadAll(r.Body)
			if string(body) != tt.body || r.ContentLength != int64(len(tt.body)) {
				t.Errorf("body %q (length %d), want %q", body, r.ContentLength, tt.body)
			}
			for k, v := range tt.header {
				if got := r.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if _, ok := r.Header["Host"]; ok {
				t.Error("Host kept in Header; net/http keeps it in r.Host")
			}
			for k, v := range tt.params {
				if got := r.PathValue(k); got != v {
					t.Errorf("PathValue(%q) = %q, want %q", k, got, v)
				}
			}
			if ids := Identities(r.Context()); len(ids) != tt.identities {
				t.Errorf("%d identities, want %d", len(ids), tt.identities)
			} else if tt.identities > 0 && (ids[0].AuthenticationType != "WebJobsAuthLevel" || ids[0].Claims[0].Value != "Admin") {
				t.Errorf("identity %+v", ids[0])
			}
		})
	}
	for _, bad := range []string{`{"Url":"http://h/%zz"}`, `{"Method":"BAD METHOD"}`, `{"Query":"not json"}`, `[]`, `{"Headers":{"a":{"b":1}},"Body":1`} {
		if _, err := newHTTPRequest(context.Background(), json.RawMessage(bad), "api", "fn"); err == nil {
			t.Errorf("newHTTPRequest(%s) succeeded", bad)
		}
	}
}

// mustData returns Data[key] of a payload.
func mustData(t *testing.T, payload, key string) string {
	t.Helper()
	inv, err := decodeInvocation([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return string(inv.Data[key])
}

func TestNewHTTPRequestBodyThatDidNotArrive(t *testing.T) {
	// The host copies the client's headers into Data.req.Headers but adds Body only when
	// Content-Length > 0 (GetRequestAsJObject in Azure/azure-functions-host
	// src/WebJobs.Script/Extensions/HttpRequestExtensions.cs): a chunked body is dropped and only
	// Transfer-Encoding tells. The rebuilt request then has an unknown length, as net/http reports
	// a chunked body, so a function can tell it from a declared empty body.
	for _, tt := range []struct {
		name, data string
		length     int64
		te         []string
	}{
		{"chunked, body dropped", `{"Url":"http://h/api/cache/k","Method":"PUT","Headers":{"Transfer-Encoding":["chunked"]}}`, -1, []string{"chunked"}},
		{"Content-Length 0", `{"Url":"http://h/api/cache/k","Method":"PUT","Headers":{"Content-Length":["0"]}}`, 0, nil},
		{"chunked with a body", `{"Url":"http://h/api/cache/k","Method":"PUT","Headers":{"Transfer-Encoding":["chunked"]},"Body":"abc"}`, 3, []string{"chunked"}},
	} {
		r, err := newHTTPRequest(context.Background(), json.RawMessage(tt.data), "api", "fn")
		if err != nil {
			t.Fatal(err)
		}
		if r.ContentLength != tt.length || strings.Join(r.TransferEncoding, ",") != strings.Join(tt.te, ",") || r.Header.Get("Transfer-Encoding") != "" {
			t.Errorf("%s: ContentLength %d, TransferEncoding %q, header %q; want %d %q and no header",
				tt.name, r.ContentLength, r.TransferEncoding, r.Header.Get("Transfer-Encoding"), tt.length, tt.te)
		}
	}
}

func TestHostDecodesBase64(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"", true}, {"test", true}, {"abcd", true}, {"QUJD", true}, {"QUJD\r\nQUJD", true}, {"ab cd", true}, {"QQ==", true},
		{"hello", false}, {"hello world", false}, {"{\"a\":1}", false}, {"abc", false}, {"a=bc", false}, {"ab-_", false}, {"Q===", false},
	}
	for _, tt := range tests {
		if got := hostDecodesBase64(tt.s); got != tt.want {
			t.Errorf("hostDecodesBase64(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestProtectOutputSurvivesHost checks, for each string the host would mangle, that what the host
// makes of the protected value (Convert.FromBase64String when valid, else the string) is the
// function's text.
func TestProtectOutputSurvivesHost(t *testing.T) {
	queue := Binding{Name: "out", Type: "queue", Direction: "out"}
	hostView := func(v any) string {
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			return string(b)
		}
		if hostDecodesBase64(s) {
			b, _ := base64.StdEncoding.DecodeString(strings.NewReplacer(" ", "", "\t", "", "\r", "", "\n", "").Replace(s))
			return string(b)
		}
		return s
	}
	for _, s := range []string{"test", "abcd", "QUJD", "", "hello world", "{\"a\":1}", "ab cd", "héllo"} {
		if got := hostView(protectOutput(queue, s)); got != s {
			t.Errorf("host receives %q for %q", got, s)
		}
	}
	binary := Binding{Name: "out", Type: "blob", Direction: "out", DataType: "binary"}
	if got := protectOutput(binary, "QUJD"); got != "QUJD" {
		t.Errorf("binary binding value changed to %v", got)
	}
	obj := map[string]any{"k": "QUJD"}
	if got := protectOutput(queue, obj); got.(map[string]any)["k"] != "QUJD" {
		t.Error("object value changed")
	}
}

func TestNewHTTPOutput(t *testing.T) {
	rec := newRecorder()
	rec.Header().Add("X-A", "1")
	rec.Header().Add("X-A", "2")
	rec.Header().Set("Content-Length", "5")
	rec.WriteHeader(201)
	_, _ = rec.Write([]byte("<html>hi</html>"))
	out, err := newHTTPOutput("GET", rec)
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != "201" || out.Headers["X-A"] != "1, 2" || out.Body != "<html>hi</html>" ||
		out.Headers["Content-Type"] != "text/html; charset=utf-8" || out.Headers["Content-Length"] != "" {
		t.Errorf("output %+v", out)
	}
	if out, _ := newHTTPOutput("HEAD", rec); out.Body != "" {
		t.Errorf("HEAD body %q", out.Body)
	}
	bin := newRecorder()
	_, _ = bin.Write([]byte{0xff, 0xfe})
	if _, err := newHTTPOutput("GET", bin); !errors.Is(err, errBinaryBody) {
		t.Errorf("invalid UTF-8 body: %v, want errBinaryBody", err)
	}
}
