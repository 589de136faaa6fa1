package demarquesim

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// Faults are applied to every API request until SetFaults is called again
// with the zero value. Latency comes first; then Drop, Status or Garbage, in
// that order, replaces the normal answer.
type Faults struct {
	// Latency delays the answer (real time, not the simulator's clock). A
	// client that gives up first gets no answer.
	Latency time.Duration
	// Status, when non-zero, answers this status with the JSON error body
	// {"error": Code, "message": …}.
	Status int
	// Code is the error string of that body; empty means a generic one for
	// the status (access_denied for 401, not_found for 404, …).
	Code string
	// RetryAfter, with Status 429 (or 503), sets the Retry-After header in
	// whole seconds, rounded up.
	RetryAfter time.Duration
	// Garbage answers 200 with a body that is not JSON.
	Garbage bool
	// Drop hijacks the connection and closes it without an answer.
	Drop bool
	// Late carries a lending request out and then holds its answer for
	// this long (real time): a client that gives up first gets no answer,
	// but the loan was made, as when the warehouse is slow to answer.
	Late time.Duration
	// LoseAnswer carries an API request out (a lending request makes or
	// regenerates its loan) and then loses its answer as the mode says:
	// the connection cut, a gateway's 502 page, an unreadable 200, a 200
	// over the plugin's default size cap. The faults above, set with it,
	// come first.
	LoseAnswer lostanswer.Mode
}

// GarbageBody is what Faults.Garbage answers.
const GarbageBody = "\x00\x1f<html>not json at all"

// SetFaults replaces the faults applied to API requests.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// apply carries out the faults; false when it answered (or dropped) the
// request itself.
func (f Faults) apply(w http.ResponseWriter, r *http.Request) bool {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	switch {
	case f.Drop:
		drop(w)
		return false
	case f.Status != 0:
		if f.RetryAfter > 0 && (f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable) {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		}
		code := f.Code
		if code == "" {
			code = genericCode(f.Status)
		}
		writeError(w, f.Status, code, "injected fault")
		return false
	case f.Garbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(GarbageBody))
		return false
	}
	return true
}

// answerLate runs handle and, with Faults.Late set, holds its answer: the
// request takes effect whether or not the client is still there to hear.
func (s *Sim) answerLate(w http.ResponseWriter, r *http.Request, handle func(http.ResponseWriter)) {
	s.mu.Lock()
	late := s.faults.Late
	s.mu.Unlock()
	if late <= 0 {
		handle(w)
		return
	}
	buf := &heldAnswer{header: http.Header{}, status: http.StatusOK}
	handle(buf)
	t := time.NewTimer(late)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return // the client gave up; the loan stands
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
}

// heldAnswer keeps an answer to send later.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) Header() http.Header         { return h.header }
func (h *heldAnswer) WriteHeader(status int)      { h.status = status }
func (h *heldAnswer) Write(b []byte) (int, error) { return h.body.Write(b) }

// drop closes the connection without answering.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2): aborting the handler resets the stream.
	panic(http.ErrAbortHandler)
}

func genericCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "access_denied"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
	}
	if status >= 500 {
		return "server_error"
	}
	return "error"
}
