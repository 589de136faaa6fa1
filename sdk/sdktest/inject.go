package sdktest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// Fault is one way a distributor's HTTP API fails, as the kit drives it
// through Config.Faults to check that the plugin answers each with the
// unified code and outcome class the host relies on (api.md §7): a
// failure whose request may have acted at the distributor must say
// sdk.OutcomeUnknown, or a retry orders twice.
//
// The first five fail before the distributor acts on the request; the
// ...AfterActing variants let the simulator act (a checkout places its
// loan) and then lose the answer the same way.
type Fault int

// The faults the kit drives, in the order it drives them.
const (
	// FaultServerError: a gateway's 502 with an HTML page, without the
	// distributor's own error body: provider_error, outcome unknown.
	FaultServerError Fault = iota + 1
	// FaultRateLimited: 429 with Retry-After: FaultRetryAfter (whole
	// seconds), the distributor asking every caller to wait: try_later
	// with that retry-after, scoped to the instance (sdk.ScopeInstance),
	// outcome definitive.
	FaultRateLimited
	// FaultGarbage: 200 with a body that is not the API's answer:
	// provider_error, outcome unknown.
	FaultGarbage
	// FaultCut: the connection closes once the request has been read,
	// without an answer: provider_error, outcome unknown.
	FaultCut
	// FaultSlow: no answer before the call gives up: provider_timeout,
	// outcome unknown.
	FaultSlow
	// FaultServerErrorAfterActing is FaultServerError once the
	// distributor has acted.
	FaultServerErrorAfterActing
	// FaultGarbageAfterActing is FaultGarbage once the distributor has
	// acted.
	FaultGarbageAfterActing
	// FaultCutAfterActing is FaultCut once the distributor has acted.
	FaultCutAfterActing
	// FaultSlowAfterActing is FaultSlow once the distributor has acted.
	FaultSlowAfterActing
)

// FaultRetryAfter is the Retry-After of FaultRateLimited.
const FaultRetryAfter = 17 * time.Second

// faultOrder lists the faults as the kit drives them.
var faultOrder = []Fault{FaultServerError, FaultRateLimited, FaultGarbage, FaultCut, FaultSlow,
	FaultServerErrorAfterActing, FaultGarbageAfterActing, FaultCutAfterActing, FaultSlowAfterActing}

// String names f as its subtest does.
func (f Fault) String() string {
	switch f {
	case FaultServerError:
		return "server_error"
	case FaultRateLimited:
		return "rate_limited"
	case FaultGarbage:
		return "garbage"
	case FaultCut:
		return "cut"
	case FaultSlow:
		return "slow"
	case FaultServerErrorAfterActing, FaultGarbageAfterActing, FaultCutAfterActing, FaultSlowAfterActing:
		return f.base().String() + "_after_acting"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// AfterActing reports whether the distributor acts before f loses its
// answer.
func (f Fault) AfterActing() bool {
	return f >= FaultServerErrorAfterActing && f <= FaultSlowAfterActing
}

// base is f without acting first.
func (f Fault) base() Fault {
	switch f {
	case FaultServerErrorAfterActing:
		return FaultServerError
	case FaultGarbageAfterActing:
		return FaultGarbage
	case FaultCutAfterActing:
		return FaultCut
	case FaultSlowAfterActing:
		return FaultSlow
	}
	return f
}

// want is what a plugin must answer under f.
func (f Fault) want() (sdk.Code, sdk.Outcome) {
	switch f.base() {
	case FaultRateLimited:
		return sdk.CodeTryLater, sdk.OutcomeDefinitive
	case FaultSlow:
		return sdk.CodeProviderTimeout, sdk.OutcomeUnknown
	}
	return sdk.CodeProviderError, sdk.OutcomeUnknown
}

// FaultInjector is the hook through which the kit makes the distributor
// fail (Config.Faults). The Server of Simulator is one and makes every
// Fault itself; a simulator of your own with fault switches needs only a
// FaultFunc:
//
//	Faults: sdktest.FaultFunc(func(f sdktest.Fault) func() {
//		switch f {
//		case sdktest.FaultCut:
//			sim.SetFaults(acmesim.Faults{Drop: true})
//		default:
//			return nil // not offered: the kit skips it, named
//		}
//		return func() { sim.SetFaults(acmesim.Faults{}) }
//	}),
type FaultInjector interface {
	// Inject makes every request that may act at the distributor fail as
	// f says until restore is called; a nil restore means f cannot be
	// made, and the kit skips what needs it, naming it.
	Inject(f Fault) (restore func())
}

// FaultFunc is a FaultInjector made of a function.
type FaultFunc func(f Fault) (restore func())

// Inject calls fn.
func (fn FaultFunc) Inject(f Fault) (restore func()) { return fn(f) }

// Server is a simulator served by Simulator: an httptest.Server (its URL is
// the base URL to configure) and a FaultInjector that makes every Fault in
// front of the simulator's handler. Give it to the kit as Config.Faults;
// the kit then also reads which answers the simulator sent during a call
// (a distributor's refusal that a plugin answered as provider_error is a
// mapping it missed).
type Server struct {
	*httptest.Server
	d *detached
}

// Inject makes every request that may act at the distributor (any method
// but GET, HEAD and OPTIONS: reads such as a token or a feed pass) fail as
// f says, until restore is called.
func (s *Server) Inject(f Fault) (restore func()) {
	s.d.mu.Lock()
	s.d.fault = f
	s.d.mu.Unlock()
	return func() {
		s.d.mu.Lock()
		if s.d.fault == f {
			s.d.fault = 0
		}
		s.d.mu.Unlock()
	}
}

// answer is one answer the simulator sent.
type answer struct {
	method, path string
	status       int
	code         string // the distributor's code, read as sdk.DecodeJSONError reads it
}

// maxAnswers bounds the answers a Server remembers.
const maxAnswers = 256

// answerMark is a point in a Server's answers.
type answerMark int

// mark is the point after the answers sent so far.
func (s *Server) mark() answerMark {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return answerMark(s.d.sent)
}

// since returns the answers sent after m (those still remembered).
func (s *Server) since(m answerMark) []answer {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	n := s.d.sent - int(m)
	if n > len(s.d.answers) {
		n = len(s.d.answers)
	}
	return append([]answer(nil), s.d.answers[len(s.d.answers)-n:]...)
}

// mayAct reports whether a request with method may act at the
// distributor.
func mayAct(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// garbageBody is FaultGarbage's answer; FaultServerError's is the
// gateway page simulators lose answers with (lostanswer.GatewayPage).
const garbageBody = "{\"id\": \"\x00\xff<html><body>Service Unavail"

// fail answers r as fault f (the base fault) says.
func (d *detached) fail(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f.base() {
	case FaultServerError:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(lostanswer.GatewayPage))
	case FaultRateLimited:
		w.Header().Set("Retry-After", "17")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Too Many Requests\n"))
	case FaultGarbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(garbageBody))
	case FaultCut:
		// net/http closes the connection without an answer and logs
		// nothing for this panic value.
		panic(http.ErrAbortHandler)
	case FaultSlow:
		select {
		case <-r.Context().Done():
		case <-d.closing:
		}
	}
}

// record keeps an answer the simulator sent.
func (d *detached) record(r *http.Request, status int, body []byte) {
	code, _ := sdk.DecodeJSONError(body)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent++
	d.answers = append(d.answers, answer{method: r.Method, path: r.URL.Path, status: status, code: code})
	if len(d.answers) > maxAnswers {
		d.answers = append([]answer(nil), d.answers[len(d.answers)-maxAnswers:]...)
	}
}

var _ FaultInjector = (*Server)(nil)
