package ehubsim

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// Faults are failures the simulator injects into every call until they are
// cleared with SetFaults(Faults{}). Latency applies first and combines with
// any other fault; of the others the first set, in field order, wins.
type Faults struct {
	// Latency delays every answer; a client that gives up early ends the
	// wait, so a test server never hangs on close.
	Latency time.Duration
	// Drop hijacks the connection and closes it without an answer.
	Drop bool
	// RetryAfter answers 429 {"code":"TOO_MANY_REQUESTS"} with a Retry-After
	// header of this many (whole, rounded up) seconds.
	RetryAfter time.Duration
	// Status answers this status (meant for 5xx) with the JSON error body
	// {"code":"INTERNAL_SERVER_ERROR"}, or with garbage when Garbage is set.
	Status int
	// Garbage answers an unreadable body: with status 200 unless Status is
	// set.
	Garbage bool
	// LoseAnswer carries the call out (a checkout is made) and then loses
	// its answer as the mode says: the connection cut, a gateway's 502
	// page, an unreadable 2xx, a 2xx over the plugin's default size cap.
	// The faults above, set with it, come first.
	LoseAnswer lostanswer.Mode
}

// garbageBody is neither JSON nor the answer's shape.
const garbageBody = "<html><body>502 Bad Gateway \x00\xff</body>"

// SetFaults injects f into every following call (the zero Faults clears).
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Op names a simulated operation, for the per-operation counters.
type Op string

// The simulated operations.
const (
	OpCheckout Op = "checkout" // POST /v1/checkouts
	OpGet      Op = "get"      // GET /v1/checkouts/{id}
	OpDelete   Op = "delete"   // DELETE /v1/checkouts/{id}
)

// Calls is the number of requests received, faulted and unrouted ones
// included.
func (s *Sim) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsFor is the number of requests that reached operation op (a faulted
// request never does).
func (s *Sim) CallsFor(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opCalls[op]
}

// apply injects f into one call and reports whether it answered the call.
func (f Faults) apply(w http.ResponseWriter, r *http.Request) bool {
	if f.Latency > 0 {
		// The server notices a client going away only once the request
		// body has been read, so read it now and hand the handler a copy.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return true
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case f.Drop:
		hj, ok := w.(http.Hijacker)
		if !ok {
			// HTTP/2 cannot hijack; abort the stream instead.
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return true
	case f.RetryAfter > 0:
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, &apiError{status: http.StatusTooManyRequests, Code: "TOO_MANY_REQUESTS", Message: "slow down"})
		return true
	case f.Garbage:
		status := http.StatusOK
		if f.Status != 0 {
			status = f.Status
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(garbageBody))
		return true
	case f.Status != 0:
		writeError(w, &apiError{status: f.Status, Code: "INTERNAL_SERVER_ERROR", Message: "injected fault"})
		return true
	}
	return false
}
