package tokenservice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Mode is how the token endpoints fail, if at all.
type Mode int

const (
	// None answers normally.
	None Mode = iota
	// Status5xx answers with Fault.Status (default 500) and an empty JSON-typed
	// body, as the real endpoint does in an outage.
	Status5xx
	// Refuse resets the connection without an answer, like an unreachable endpoint.
	Refuse
	// Hang never answers: the request is held until the client gives up or the service closes.
	Hang
)

var modeNames = map[Mode]string{None: "none", Status5xx: "5xx", Refuse: "refuse", Hang: "hang"}

// String returns the mode's name: "none", "5xx", "refuse" or "hang".
func (m Mode) String() string {
	if n, ok := modeNames[m]; ok {
		return n
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MarshalText encodes the mode as its name.
func (m Mode) MarshalText() ([]byte, error) {
	if _, ok := modeNames[m]; !ok {
		return nil, fmt.Errorf("tokenservice: unknown fault mode %d", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes a mode from its name; "" means None.
func (m *Mode) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = None
		return nil
	}
	for mode, name := range modeNames {
		if name == string(b) {
			*m = mode
			return nil
		}
	}
	return fmt.Errorf("tokenservice: unknown fault mode %q (want none, 5xx, refuse or hang)", b)
}

// Fault makes the token endpoints (not the JWKS or admin endpoints) misbehave.
// The zero Fault is normal service.
type Fault struct {
	Mode            Mode          // how requests fail
	Status          int           // status for Status5xx; default 500
	Delay           time.Duration // slowness before answering (or failing)
	WrongAudience   bool          // issue tokens for another audience (https://management.azure.com)
	UnknownIdentity bool          // answer every request as if the requested identity were not assigned
}

// faultJSON is Fault on the admin API, with the delay as a Go duration string ("250ms").
type faultJSON struct {
	Mode            Mode   `json:"mode"`
	Status          int    `json:"status,omitempty"`
	Delay           string `json:"delay,omitempty"`
	WrongAudience   bool   `json:"wrongAudience,omitempty"`
	UnknownIdentity bool   `json:"unknownIdentity,omitempty"`
}

// MarshalJSON encodes the fault for the admin API: {"mode":"hang","delay":"250ms",…}.
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Mode: f.Mode, Status: f.Status, WrongAudience: f.WrongAudience, UnknownIdentity: f.UnknownIdentity}
	if f.Delay != 0 {
		j.Delay = f.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the admin API's form of a fault.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("tokenservice: fault: %w", err)
	}
	var delay time.Duration
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return fmt.Errorf("tokenservice: fault delay: %w", err)
		}
		delay = d
	}
	*f = Fault{Mode: j.Mode, Status: j.Status, Delay: delay, WrongAudience: j.WrongAudience, UnknownIdentity: j.UnknownIdentity}
	return f.validate()
}

func (f Fault) validate() error {
	if _, ok := modeNames[f.Mode]; !ok {
		return fmt.Errorf("tokenservice: unknown fault mode %d", int(f.Mode))
	}
	if f.Status != 0 && (f.Status < 500 || f.Status > 599) {
		return fmt.Errorf("tokenservice: fault status %d is not a 5xx status", f.Status)
	}
	if f.Delay < 0 {
		return fmt.Errorf("tokenservice: negative fault delay %v", f.Delay)
	}
	return nil
}

func (f Fault) status() int {
	if f.Status == 0 {
		return http.StatusInternalServerError
	}
	return f.Status
}

// SetFault switches a fault on; Fault{} clears it. It panics on an invalid fault
// (an unknown mode, a status outside 5xx, a negative delay), which is a bug in the
// calling code; POST /admin/fault answers 400 instead.
func (s *Service) SetFault(f Fault) {
	if err := f.validate(); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

func (s *Service) currentFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}
