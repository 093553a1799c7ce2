// Fault injection for merchants' resilience tests: latency, error statuses,
// dropped connections and lost answers.

package hipopaytest

import (
	"fmt"
	"strings"
	"time"
)

type faultKind int

const (
	faultStatus     faultKind = iota // answer a status, request not processed
	faultDrop                        // close the connection, request not processed
	faultLoseAnswer                  // process the request, then close the connection
)

type fault struct {
	kind      faultKind
	method    string // "" for any method
	path      string
	status    int
	remaining int
}

// splitMethodPath reads "GET payment_refund" or "payment_refund" (any
// method), with or without a leading "/".
func splitMethodPath(s string) (method, path string) {
	s = strings.TrimSpace(s)
	if m, p, ok := strings.Cut(s, " "); ok {
		method, s = strings.ToUpper(m), strings.TrimSpace(p)
	}
	return method, strings.TrimPrefix(s, "/")
}

func (s *Server) addFault(kind faultKind, path string, status, n int) {
	if n <= 0 {
		return
	}
	method, p := splitMethodPath(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{kind: kind, method: method, path: p, status: status, remaining: n})
}

// takeFaultLocked returns the first pending fault for a request and counts
// it down; nil when there is none.
func (s *Server) takeFaultLocked(method, path string) *fault {
	for i, f := range s.faults {
		if f.path == path && (f.method == "" || f.method == method) {
			f.remaining--
			if f.remaining <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// SetLatency delays the answer to every API call by d (0 removes it),
// faulted calls included: to test the merchant's timeouts. A request whose
// client gives up, or a Close, ends the wait.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(d, 0)
}

// FailNext answers the next n calls of path with HTTP status and a small
// HTML body, as a proxy in front of HipoPay would; those calls are not
// processed. path is relative to the base URL ("payment"), optionally
// prefixed with a method ("GET payment_refund"); faults for one path are
// used in the order they were added. Use 5xx or 429 to exercise the SDK's
// retries.
//
// status must be an HTTP error status, 400 to 599: FailNext panics on any
// other (a 1xx, 2xx or 3xx answer with an HTML body is no failure a client
// can be tested against), as NewServer panics on an invalid option.
func (s *Server) FailNext(path string, status int, n int) {
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("hipopaytest: FailNext: status %d is not an HTTP error status (400-599)", status))
	}
	s.addFault(faultStatus, path, status, n)
}

// DropNext closes the connection of the next n calls of path without
// answering, before processing them: HipoPay never saw them (a reset on
// the way). See FailNext for path.
func (s *Server) DropNext(path string, n int) {
	s.addFault(faultDrop, path, 0, n)
}

// LoseNextAnswer processes the next n calls of path, then closes the
// connection without answering: HipoPay acted (an order placed, a refund
// made) but the merchant never hears. The case a merchant must resolve by
// querying, never by re-sending blindly. See FailNext for path.
func (s *Server) LoseNextAnswer(path string, n int) {
	s.addFault(faultLoseAnswer, path, 0, n)
}

// ClearFaults removes pending faults and the latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.latency = 0
}
