// Command handler is a custom handler used by the host emulator's tests. Its behaviour is set by
// environment variables (TH_STATE_DIR, TH_PLAN, TH_STDERR) and by scripts sent in requests.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// script tells the handler how to answer one payload-mode invocation.
type script struct {
	Status      int      `json:"status"`
	ContentType *string  `json:"contentType"`
	Body        string   `json:"body"`
	Echo        bool     `json:"echo"`
	Sleep       string   `json:"sleep"`
	Exit        *int     `json:"exit"`
	Stderr      []string `json:"stderr"`
	Stdout      []string `json:"stdout"`
}

func main() {
	dir := os.Getenv("TH_STATE_DIR")
	n := bumpStarts(dir)
	cwd, _ := os.Getwd()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "FUNCTIONS_") || strings.HasPrefix(k, "TH_") || strings.HasPrefix(k, "APP_")) {
			env[k] = v
		}
	}
	launch, _ := json.Marshal(map[string]any{"env": env, "args": os.Args[1:], "cwd": cwd, "pid": os.Getpid()})
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("launch-%d.json", n)), launch, 0o644)

	fmt.Printf("handler stdout start %d\n", n)
	for _, l := range strings.Split(os.Getenv("TH_STDERR"), "|") {
		if l != "" {
			fmt.Fprintln(os.Stderr, l)
		}
	}
	plan := strings.Split(os.Getenv("TH_PLAN"), ",")
	step := "serve"
	if n-1 < len(plan) && plan[n-1] != "" {
		step = plan[n-1]
	}
	switch {
	case strings.HasPrefix(step, "exit:"):
		code, _ := strconv.Atoi(strings.TrimPrefix(step, "exit:"))
		os.Exit(code)
	case step == "hang":
		time.Sleep(time.Hour)
	case strings.HasPrefix(step, "slow:"):
		d, _ := time.ParseDuration(strings.TrimPrefix(step, "slow:"))
		time.Sleep(d)
	}
	addr := "127.0.0.1:" + os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if err := http.ListenAndServe(addr, http.HandlerFunc(serve)); err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
}

func bumpStarts(dir string) int {
	p := filepath.Join(dir, "starts")
	b, _ := os.ReadFile(p)
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	n++
	_ = os.WriteFile(p, []byte(strconv.Itoa(n)), 0o644)
	return n
}

func serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/":
		_, _ = io.WriteString(w, "ok")
	case strings.HasPrefix(r.URL.Path, "/api/"):
		forwarded(w, r)
	default:
		invocation(w, r)
	}
}

// forwarded answers requests forwarded by the host (enableForwardingHttpRequest).
func forwarded(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/redirect"):
		http.Redirect(w, r, "/api/fwd/elsewhere", http.StatusFound)
		return
	case strings.Contains(r.URL.Path, "/status/"):
		code, _ := strconv.Atoi(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
		w.Header().Set("X-Handler", "yes")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "status body")
		return
	case strings.HasSuffix(r.URL.Path, "/sleep"):
		select {
		case <-time.After(time.Minute):
		case <-r.Context().Done():
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "uri": r.RequestURI, "host": r.Host, "headers": r.Header,
		"body": string(body), "contentLength": r.ContentLength, "transferEncoding": r.TransferEncoding,
	})
}

// invocation answers POST /{function} in payload mode.
func invocation(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var payload struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	_ = json.Unmarshal(raw, &payload)
	s := findScript(payload.Data)
	for _, l := range s.Stdout {
		fmt.Println(l)
	}
	for _, l := range s.Stderr {
		fmt.Fprintln(os.Stderr, l)
	}
	if s.Sleep != "" {
		d, _ := time.ParseDuration(s.Sleep)
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if s.Exit != nil {
		os.Exit(*s.Exit)
	}
	if s.Echo || (s.Status == 0 && s.Body == "") {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"Logs": []string{"echo " + strings.TrimPrefix(r.URL.Path, "/")},
			"Outputs": map[string]any{"res": map[string]any{
				"statusCode": 200,
				"headers":    map[string]string{"Content-Type": "application/json"},
				"body": map[string]any{
					"payload": json.RawMessage(raw), "headers": r.Header, "path": r.URL.Path,
					"chunked": len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked",
				},
			}},
		})
		return
	}
	ct := "application/json"
	if s.ContentType != nil {
		ct = *s.ContentType
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	w.WriteHeader(s.Status)
	_, _ = io.WriteString(w, s.Body)
}

// findScript reads the script from Data.req.Body (HTTP) or from the first string input, which
// may be double-encoded.
func findScript(data map[string]json.RawMessage) script {
	var s script
	var src string
	if req, ok := data["req"]; ok {
		var obj struct{ Body string }
		_ = json.Unmarshal(req, &obj)
		src = obj.Body
	} else {
		for _, v := range data {
			var str string
			if json.Unmarshal(v, &str) == nil {
				src = str
				break
			}
		}
	}
	for i := 0; i < 2; i++ { // undo the host's double encoding
		var inner string
		if json.Unmarshal([]byte(src), &inner) != nil {
			break
		}
		src = inner
	}
	_ = json.Unmarshal([]byte(src), &s)
	return s
}
