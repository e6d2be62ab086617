package tokenservice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestStatus5xxFault(t *testing.T) {
	s := startService(t, Config{})
	header := map[string]string{identityHeaderName: s.Secret()}
	s.SetFault(Fault{Mode: Status5xx})
	status, body := get(t, http.DefaultClient, s.Endpoint(), tokenQuery(), header)
	equal(t, http.StatusInternalServerError, status)
	equal(t, 0, len(body), "the real outage answer has an empty body")
	s.SetFault(Fault{Mode: Status5xx, Status: http.StatusBadGateway})
	status, _ = get(t, http.DefaultClient, s.IMDSEndpoint(), tokenQuery(), map[string]string{"Metadata": "true"})
	equal(t, http.StatusBadGateway, status)
	equal(t, int64(2), s.Stats().Errors[ErrKindFault5xx])

	s.SetFault(Fault{})
	status, _ = get(t, http.DefaultClient, s.Endpoint(), tokenQuery(), header)
	equal(t, http.StatusOK, status)
}

func TestRefuseFault(t *testing.T) {
	s := startService(t, Config{})
	s.SetFault(Fault{Mode: Refuse})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Endpoint()+"?"+tokenQuery().Encode(), nil)
	noErr(t, err)
	req.Header.Set(identityHeaderName, s.Secret())
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d from a refusing endpoint", resp.StatusCode)
	}
	var netErr net.Error
	isTrue(t, !(errors.As(err, &netErr) && netErr.Timeout()), "refused, not timed out: %v", err)
	isTrue(t, s.Stats().Errors[ErrKindFaultRefuse] >= 1)
}

func TestHangFault(t *testing.T) {
	s := startService(t, Config{})
	header := map[string]string{identityHeaderName: s.Secret()}
	s.SetFault(Fault{Mode: Hang})

	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Endpoint()+"?"+tokenQuery().Encode(), nil)
	noErr(t, err)
	req.Header.Set(identityHeaderName, s.Secret())
	_, err = client.Do(req)
	var netErr net.Error
	isTrue(t, errors.As(err, &netErr) && netErr.Timeout(), "want a client timeout, got %v", err)

	s.SetFault(Fault{})
	status, _ := get(t, http.DefaultClient, s.Endpoint(), tokenQuery(), header)
	equal(t, http.StatusOK, status)
}

func TestCloseEndsHungRequests(t *testing.T) {
	s, err := New(Config{})
	noErr(t, err)
	noErr(t, s.Start("127.0.0.1:0"))
	s.SetFault(Fault{Mode: Hang})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.Endpoint()+"?"+tokenQuery().Encode(), nil)
		req.Header.Set(identityHeaderName, s.Secret())
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitFor(t, func() bool { return s.Stats().Errors[ErrKindFaultHang] == 1 })
	noErr(t, s.Close())
	select {
	case err := <-done:
		isTrue(t, err != nil, "hung request answered")
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the hung request hanging")
	}
}

func TestAdminAPI(t *testing.T) {
	s := startService(t, Config{})
	post := func(body string) (int, []byte) {
		resp, err := http.Post(s.URL()+"/admin/fault", "application/json", bytes.NewBufferString(body))
		noErr(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		noErr(t, err)
		return resp.StatusCode, b
	}
	status, body := post(`{"mode":"5xx","status":503,"delay":"10ms","wrongAudience":true}`)
	equal(t, http.StatusOK, status, "body: %s", body)
	equal(t, Fault{Mode: Status5xx, Status: 503, Delay: 10 * time.Millisecond, WrongAudience: true}, s.currentFault())

	status, _ = get(t, http.DefaultClient, s.Endpoint(), tokenQuery(), map[string]string{identityHeaderName: s.Secret()})
	equal(t, http.StatusServiceUnavailable, status)

	for _, bad := range []string{`{"mode":"flaky"}`, `{"mode":"5xx","status":404}`, `{"delay":"soon"}`, `{"nope":1}`} {
		status, _ = post(bad)
		equal(t, http.StatusBadRequest, status, "fault %s", bad)
	}
	status, _ = post(`{}`)
	equal(t, http.StatusOK, status)
	equal(t, Fault{}, s.currentFault())

	status, body = get(t, http.DefaultClient, s.URL()+"/admin/fault", nil, nil)
	equal(t, http.StatusOK, status)
	equal(t, `{"mode":"none"}`, string(bytes.TrimSpace(body)))

	status, body = get(t, http.DefaultClient, s.URL()+"/admin/stats", nil, nil)
	equal(t, http.StatusOK, status)
	var st Stats
	noErr(t, json.Unmarshal(body, &st))
	equal(t, s.Stats(), st)
	equal(t, int64(1), st.Errors[ErrKindFault5xx])
}

func TestUnknownIdentityFault(t *testing.T) {
	s := startService(t, Config{})
	s.SetFault(Fault{UnknownIdentity: true})
	status, body := get(t, http.DefaultClient, s.Endpoint(), tokenQuery(), map[string]string{identityHeaderName: s.Secret()})
	equal(t, http.StatusBadRequest, status)
	equal(t, msgUnknownIdentity, decode[appServiceError](t, body).Message)
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
