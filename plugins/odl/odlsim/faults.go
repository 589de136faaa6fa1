package odlsim

import (
	"bytes"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Faults are failures injected into API requests until SetFaults is called
// again (or, with Times, for the next Times matching requests). Latency
// comes first; then Drop, Status or Garbage replace the answer before the
// request is carried out; else the request is carried out and DropAfter,
// BadGatewayAfter, GarbageAfter or Late lose or delay its answer, as a
// distributor that acted and then failed to say so.
type Faults struct {
	// Endpoints limits the faults to these endpoints (empty: every API
	// endpoint).
	Endpoints []Endpoint
	// Times, when positive, applies the faults to that many matching
	// requests, then clears them.
	Times int

	// Latency delays the answer (real time). A client that gives up first
	// gets no answer and nothing is carried out.
	Latency time.Duration
	// Drop closes the connection without an answer; nothing is carried out.
	Drop bool
	// Status answers this status with a problem document; nothing is
	// carried out.
	Status int
	// Problem is the problem type of that answer (default TypeGeneric, or
	// for 5xx TypeServer).
	Problem string
	// RetryAfter, with Status 429 or 503, sets Retry-After in whole
	// seconds, rounded up.
	RetryAfter time.Duration
	// Garbage answers 200 with a body that is not JSON; nothing is
	// carried out.
	Garbage bool

	// DropAfter carries the request out, then closes the connection
	// without an answer.
	DropAfter bool
	// BadGatewayAfter carries the request out, then answers 502 with an
	// HTML page, as a proxy whose upstream timed out.
	BadGatewayAfter bool
	// GarbageAfter carries the request out, then answers its status with
	// a body that is not JSON.
	GarbageAfter bool
	// Late carries the request out and holds its answer this long (real
	// time): a client that gives up first gets none.
	Late time.Duration
}

// GarbageBody is what Garbage and GarbageAfter answer.
const GarbageBody = "\x00\x1f<html>not json at all"

// BadGatewayBody is what BadGatewayAfter answers.
const BadGatewayBody = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"

// SetFaults replaces the faults applied to API requests.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// faultFor returns the faults that apply to a request to e (the zero
// Faults when none do) and counts it against Times. Call with s.mu held.
func (s *Sim) faultFor(e Endpoint) Faults {
	f := s.faults
	if len(f.Endpoints) > 0 && !slices.Contains(f.Endpoints, e) {
		return Faults{}
	}
	if f.Times > 0 {
		s.faults.Times--
		if s.faults.Times == 0 {
			s.faults = Faults{}
		}
	}
	return f
}

// before applies the faults that answer instead of the request; false
// when it answered (or dropped) it.
func (f Faults) before(w http.ResponseWriter, r *http.Request) bool {
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
		typ := f.Problem
		if typ == "" {
			typ = TypeGeneric
			if f.Status >= 500 {
				typ = TypeServer
			}
		}
		writeProblem(w, f.Status, typ, http.StatusText(f.Status), "injected fault")
		return false
	case f.Garbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(GarbageBody))
		return false
	}
	return true
}

// after runs handle and then loses or delays its answer as the faults say.
func (f Faults) after(w http.ResponseWriter, r *http.Request, handle http.HandlerFunc) {
	if !f.DropAfter && !f.BadGatewayAfter && !f.GarbageAfter && f.Late <= 0 {
		handle(w, r)
		return
	}
	held := &heldAnswer{header: http.Header{}, status: http.StatusOK}
	handle(held, r)
	switch {
	case f.DropAfter:
		drop(w)
		return
	case f.BadGatewayAfter:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(BadGatewayBody))
		return
	case f.GarbageAfter:
		w.Header().Set("Content-Type", held.header.Get("Content-Type"))
		w.WriteHeader(held.status)
		_, _ = w.Write([]byte(GarbageBody))
		return
	}
	t := time.NewTimer(f.Late)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return // the client gave up; what was done stands
	}
	for k, v := range held.header {
		w.Header()[k] = v
	}
	w.WriteHeader(held.status)
	_, _ = w.Write(held.body.Bytes())
}

// heldAnswer keeps an answer to send later (or never).
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
