package sdktest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// maxSimulatorBody caps a request body the simulator wrapper reads.
const maxSimulatorBody = 16 << 20

// Simulator serves h, a distributor's simulator, on a loopback httptest
// server until the test ends, and returns the server (its URL is the base
// URL to configure). Use it instead of httptest.NewServer in conformance
// tests; it differs in three ways:
//
//   - h runs only once the request's body has been read: net/http notices
//     that the client hung up (and ends r.Context()) only after that, so a
//     simulator that waits on r.Context() stops when the plugin gives up;
//   - a handler still running when the plugin has hung up is left behind,
//     not waited for when the server closes (httptest waits for it, a
//     minute for a minute of latency), and the test's log names it with the
//     check that started it;
//   - it is a FaultInjector: give it to the kit as Config.Faults, and the
//     kit makes every Fault in front of h (a 502, a 429, garbage, a cut
//     connection, a slow answer, each also after h has acted).
func Simulator(t testing.TB, h http.Handler) *Server {
	t.Helper()
	d := &detached{next: h, left: map[*leftHandler]struct{}{}, closing: make(chan struct{})}
	srv := httptest.NewServer(d)
	t.Cleanup(func() {
		close(d.closing)
		srv.Close()
		d.report(t)
	})
	return &Server{Server: srv, d: d}
}

// detached runs each request's handler on its own goroutine into a
// recorder, and answers from the recorder when the handler is done, unless
// a fault says otherwise.
type detached struct {
	next    http.Handler
	closing chan struct{} // closed when the server closes

	mu      sync.Mutex
	left    map[*leftHandler]struct{}
	fault   Fault    // injected by Server.Inject; 0: none
	answers []answer // the last maxAnswers sent
	sent    int      // answers sent in all
}

// leftHandler is a handler whose client hung up before it answered.
type leftHandler struct {
	method, path, check string
	since               time.Time
	done                chan struct{}
}

func (d *detached) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSimulatorBody))
	if err != nil {
		http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	fault := d.fault
	d.mu.Unlock()
	if !mayAct(r.Method) {
		fault = 0
	}
	if fault != 0 && !fault.AfterActing() {
		d.fail(w, r, fault)
		return
	}
	inner := r.Clone(r.Context())
	inner.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		d.next.ServeHTTP(rec, inner)
	}()
	select {
	case <-done:
	case <-r.Context().Done():
		l := &leftHandler{method: r.Method, path: r.URL.Path, check: checkName(), since: time.Now(), done: done}
		d.mu.Lock()
		d.left[l] = struct{}{}
		d.mu.Unlock()
		return
	}
	if panicked != nil {
		panic(panicked)
	}
	if fault != 0 { // the simulator acted; its answer is lost
		d.fail(w, r, fault)
		return
	}
	d.record(r, rec.Code, rec.Body.Bytes())
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// report logs every handler still running after its client hung up.
func (d *detached) report(t testing.TB) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for l := range d.left {
		select {
		case <-l.done:
			continue
		default:
		}
		check := l.check
		if check == "" {
			check = "(before the kit's first check)"
		}
		t.Logf("sdktest.Simulator: the simulator's handler for %s %s, called in check %s, was still running %s after the plugin hung up; "+
			"it was not waited for. It waits without watching r.Context() (a time.Sleep?): select on r.Context().Done() instead",
			l.method, l.path, check, time.Since(l.since).Round(time.Millisecond))
	}
}
