package tokenservice

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Error messages. msgUnknownIdentity, imdsErrBadRequest102, imdsMsgMetadataMissing
// and imdsMsgIdentityMissing are the real endpoints' words (quoted in public issue
// reports and Azure's documentation); the others are the emulator's.
const (
	jsonContentType        = "application/json; charset=utf-8"
	msgUnknownIdentity     = "Unable to load the proper Managed Identity."
	msgBadIdentityHeader   = "Unauthorized. The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER."
	msgResourceMissing     = "The resource parameter is required."
	imdsErrBadRequest102   = "bad_request_102"
	imdsMsgMetadataMissing = "Required metadata header not specified"
	imdsMsgIdentityMissing = "Identity not found"
	imdsMsgAudienceMissing = "Required audience parameter not specified"
	imdsMsgAPIVersion      = "Required query variable 'api-version' is missing"
)

// appServiceToken is the 2019-08-01 App Service token response, field for field.
type appServiceToken struct {
	AccessToken string `json:"access_token"`
	ExpiresOn   string `json:"expires_on"`
	Resource    string `json:"resource"`
	TokenType   string `json:"token_type"`
	ClientID    string `json:"client_id"`
}

// imdsToken is the IMDS token response: IMDS sends every number as a string.
type imdsToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    string `json:"expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	TokenType    string `json:"token_type"`
	ClientID     string `json:"client_id"`
}

// appServiceError is the App Service token endpoint's error body.
type appServiceError struct {
	StatusCode    int    `json:"statusCode"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
}

// imdsError is the IMDS error body, in OAuth 2.0 form.
type imdsError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// ServeHTTP answers the token, JWKS and admin endpoints.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+appServiceTokenPath, s.serveAppService)
	mux.HandleFunc("GET "+imdsTokenPath, s.serveIMDS)
	mux.HandleFunc("GET "+jwksWellKnownPath, s.serveJWKS)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.serveJWKS)
	mux.HandleFunc("GET /{tenant}/discovery/keys", s.serveJWKS)
	mux.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /admin/fault", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.currentFault())
	})
	mux.HandleFunc("POST /admin/fault", s.serveSetFault)
	return mux
}

// serveAppService answers GET /msi/token, the App Service protocol azidentity uses.
func (s *Service) serveAppService(w http.ResponseWriter, r *http.Request) {
	s.countRequest()
	fault, done := s.applyFault(w, r)
	if done {
		return
	}
	got := r.Header.Get(identityHeaderName)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.secret)) != 1 {
		s.countError(ErrKindBadHeader)
		writeAppServiceError(w, http.StatusUnauthorized, msgBadIdentityHeader)
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != appServiceAPIVersion {
		s.countError(ErrKindBadRequest)
		writeAPIVersionError(w, r, v)
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		s.countError(ErrKindBadRequest)
		writeAppServiceError(w, http.StatusBadRequest, msgResourceMissing)
		return
	}
	sel := selector{
		clientID:   q.Get("client_id"),
		objectID:   firstNonEmpty(q.Get("object_id"), q.Get("principal_id")),
		resourceID: q.Get("mi_res_id"),
	}
	id, ok := s.lookup(sel)
	if !ok || fault.UnknownIdentity {
		s.countError(ErrKindUnknownIdentity)
		writeAppServiceError(w, http.StatusBadRequest, msgUnknownIdentity)
		return
	}
	tok, ok := s.issueOrFail(w, id, resource, fault)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, appServiceToken{
		AccessToken: tok.token,
		ExpiresOn:   strconv.FormatInt(tok.expiresOn.Unix(), 10),
		Resource:    resource,
		TokenType:   "Bearer",
		ClientID:    id.ClientID,
	})
}

// serveIMDS answers GET /metadata/identity/oauth2/token in the IMDS shape.
func (s *Service) serveIMDS(w http.ResponseWriter, r *http.Request) {
	s.countRequest()
	fault, done := s.applyFault(w, r)
	if done {
		return
	}
	if r.Header.Get("Metadata") != "true" {
		s.countError(ErrKindBadHeader)
		writeJSON(w, http.StatusBadRequest, imdsError{imdsErrBadRequest102, imdsMsgMetadataMissing})
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") == "" {
		s.countError(ErrKindBadRequest)
		writeJSON(w, http.StatusBadRequest, imdsError{"invalid_request", imdsMsgAPIVersion})
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		s.countError(ErrKindBadRequest)
		writeJSON(w, http.StatusBadRequest, imdsError{"invalid_request", imdsMsgAudienceMissing})
		return
	}
	sel := selector{
		clientID:   q.Get("client_id"),
		objectID:   q.Get("object_id"),
		resourceID: firstNonEmpty(q.Get("msi_res_id"), q.Get("mi_res_id")),
	}
	id, ok := s.lookup(sel)
	if !ok || fault.UnknownIdentity {
		s.countError(ErrKindUnknownIdentity)
		writeJSON(w, http.StatusBadRequest, imdsError{"invalid_request", imdsMsgIdentityMissing})
		return
	}
	tok, ok := s.issueOrFail(w, id, resource, fault)
	if !ok {
		return
	}
	expiresIn := max(int64(time.Until(tok.expiresOn)/time.Second), 0)
	writeJSON(w, http.StatusOK, imdsToken{
		AccessToken: tok.token,
		ExpiresIn:   strconv.FormatInt(expiresIn, 10),
		ExpiresOn:   strconv.FormatInt(tok.expiresOn.Unix(), 10),
		NotBefore:   strconv.FormatInt(tok.issuedAt.Unix(), 10),
		Resource:    resource,
		TokenType:   "Bearer",
		ClientID:    id.ClientID,
	})
}

// issueOrFail issues the token or answers 500 when signing fails.
func (s *Service) issueOrFail(w http.ResponseWriter, id Identity, resource string, fault Fault) (cachedToken, bool) {
	tok, hit, err := s.issue(id, resource, fault.WrongAudience)
	if err != nil {
		s.countError(ErrKindInternal)
		writeAppServiceError(w, http.StatusInternalServerError, "The token could not be issued.")
		return cachedToken{}, false
	}
	if !hit && s.onIssue != nil {
		s.onIssue(id.ObjectID, tok.token, tok.expiresOn)
	}
	return tok, true
}

// applyFault waits out the fault's delay and carries out its mode. done reports
// that the request has been answered (or abandoned) and must not be served.
func (s *Service) applyFault(w http.ResponseWriter, r *http.Request) (f Fault, done bool) {
	f = s.currentFault()
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return f, true
		case <-s.closed:
			return f, true
		}
	}
	switch f.Mode {
	case Status5xx:
		s.countError(ErrKindFault5xx)
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("X-CORRELATION-ID", newGUID())
		w.WriteHeader(f.status())
		return f, true
	case Refuse:
		s.countError(ErrKindFaultRefuse)
		resetConnection(w)
		return f, true
	case Hang:
		s.countError(ErrKindFaultHang)
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return f, true
	}
	return f, false
}

// resetConnection drops the client's connection without an answer, with a TCP
// reset where possible. Without a hijackable connection it aborts the response,
// which net/http turns into a closed connection.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // best effort: a plain close is an acceptable fallback
	}
	_ = conn.Close() // the connection is being thrown away on purpose
}

func (s *Service) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if t := r.PathValue("tenant"); t != "" && t != s.tenantID {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, s.jwks())
}

func (s *Service) serveSetFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBodyBytes)).Decode(&f); err != nil {
		var maxErr *http.MaxBytesError
		status := http.StatusBadRequest
		if errors.As(err, &maxErr) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "invalid fault: "+err.Error(), status)
		return
	}
	s.SetFault(f)
	writeJSON(w, http.StatusOK, f)
}

func writeAppServiceError(w http.ResponseWriter, status int, msg string) {
	id := newGUID()
	w.Header().Set("X-CORRELATION-ID", id)
	writeJSON(w, status, appServiceError{StatusCode: status, Message: msg, CorrelationID: id})
}

// writeAPIVersionError answers as ASP.NET API versioning does for a missing or
// unsupported api-version.
func writeAPIVersionError(w http.ResponseWriter, r *http.Request, version string) {
	code, msg := "ApiVersionUnspecified", "An API version is required, but was not specified."
	if version != "" {
		code = "UnsupportedApiVersion"
		msg = "The HTTP resource that matches the request URI '" + r.URL.Path + "' does not support the API version '" + version + "'."
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": code, "message": msg, "innerError": nil}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a client that went away cannot be told
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
