package tokenservice

import "maps"

// Error kinds counted in Stats.Errors.
const (
	// ErrKindBadHeader counts a missing or wrong X-IDENTITY-HEADER, or IMDS without "Metadata: true".
	ErrKindBadHeader = "bad_header"
	// ErrKindBadRequest counts a missing resource or api-version, or an unsupported api-version.
	ErrKindBadRequest = "bad_request"
	// ErrKindUnknownIdentity counts requests for an identity the app does not have (or under the UnknownIdentity fault).
	ErrKindUnknownIdentity = "unknown_identity"
	// ErrKindFault5xx counts requests answered by the Status5xx fault.
	ErrKindFault5xx = "fault_5xx"
	// ErrKindFaultRefuse counts connections reset by the Refuse fault.
	ErrKindFaultRefuse = "fault_refuse"
	// ErrKindFaultHang counts requests held by the Hang fault.
	ErrKindFaultHang = "fault_hang"
	// ErrKindInternal counts tokens the service failed to sign.
	ErrKindInternal = "internal"
)

// Stats are the service's counters since New.
type Stats struct {
	Requests  int64            `json:"requests"`  // token requests received, both shapes
	Issued    map[string]int64 `json:"issued"`    // new tokens handed out by the endpoints, per object ID
	CacheHits int64            `json:"cacheHits"` // requests answered with a cached token
	Errors    map[string]int64 `json:"errors"`    // failed requests by kind (ErrKind…)
}

func newStats() Stats {
	return Stats{Issued: map[string]int64{}, Errors: map[string]int64{}}
}

// IssuedTotal returns the number of new tokens handed out for every identity.
func (st Stats) IssuedTotal() int64 {
	var n int64
	for _, v := range st.Issued {
		n += v
	}
	return n
}

// Stats returns a copy of the counters. Tokens made by Token and Mint are not counted.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Issued = maps.Clone(s.stats.Issued)
	st.Errors = maps.Clone(s.stats.Errors)
	return st
}

func (s *Service) countRequest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
}

func (s *Service) countError(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Errors[kind]++
}
