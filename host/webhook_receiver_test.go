package host_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// hookCall is one request a receiver got.
type hookCall struct {
	path     string
	id, ts   string
	body     []byte
	verified bool // the Standard Webhooks signature checked out
	status   int  // what the receiver answered; 0: it hung until the sender gave up
}

func (c hookCall) ok() bool { return c.status >= 200 && c.status <= 299 }

// receiver is an ILS's webhook endpoint on 127.0.0.1: it verifies every
// signature with the Standard Webhooks library and answers what answer
// says for the n-th call (from 0) with an event id.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu      sync.Mutex
	calls   []hookCall
	seen    map[string]int
	answer  func(id string, n int) int // a status; 0 hangs until the sender gives up; a 3xx points to /elsewhere
	changed chan struct{}              // closed at every call
}

func newReceiver(t *testing.T) *receiver { return newReceiverOn(t, httptest.NewServer) }

func newReceiverOn(t *testing.T, serve func(http.Handler) *httptest.Server) *receiver {
	key := make([]byte, 32)
	rand.Read(key)
	r := &receiver{t: t, secret: "whsec_" + base64.StdEncoding.EncodeToString(key), seen: map[string]int{},
		answer: func(string, int) int { return http.StatusNoContent }, changed: make(chan struct{})}
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = serve(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		c := hookCall{path: req.URL.Path, id: req.Header.Get("webhook-id"), ts: req.Header.Get("webhook-timestamp"), body: body,
			verified: req.Method == http.MethodPost && wh.Verify(body, req.Header) == nil}
		r.mu.Lock()
		n := r.seen[c.id]
		r.seen[c.id]++
		answer := r.answer
		r.mu.Unlock()
		c.status = answer(c.id, n)
		if c.status == 0 {
			<-req.Context().Done() // the sender's deadline
		} else {
			if c.status >= 300 && c.status <= 399 {
				w.Header().Set("Location", "/elsewhere") // an answer that also accepts
			}
			w.WriteHeader(c.status)
		}
		r.mu.Lock()
		r.calls = append(r.calls, c)
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setAnswer(f func(id string, n int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = f
}

func (r *receiver) snapshot() []hookCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookCall{}, r.calls...)
}

// waitFor waits until cond holds for the calls so far. The bound only
// keeps a broken build from hanging; nothing is timed.
func (r *receiver) waitFor(what string, cond func([]hookCall) bool) []hookCall {
	r.t.Helper()
	bound := time.NewTimer(60 * time.Second)
	defer bound.Stop()
	for {
		r.mu.Lock()
		calls, ch := append([]hookCall{}, r.calls...), r.changed
		r.mu.Unlock()
		if cond(calls) {
			return calls
		}
		select {
		case <-ch:
		case <-bound.C:
			r.t.Fatalf("receiver: still waiting for %s after 60 s; calls: %s", what, describeCalls(calls))
		}
	}
}

// waitDelivered waits until n distinct events were answered 2xx.
func (r *receiver) waitDelivered(n int) []hookCall {
	r.t.Helper()
	return r.waitFor(fmt.Sprintf("%d events delivered", n), func(cs []hookCall) bool { return len(delivered(cs)) >= n })
}

// delivered lists the ids answered 2xx, in the order they were.
func delivered(cs []hookCall) []string {
	var out []string
	for _, c := range cs {
		if c.ok() {
			out = append(out, c.id)
		}
	}
	return out
}

func failedCalls(cs []hookCall, id string) int {
	n := 0
	for _, c := range cs {
		if c.id == id && !c.ok() {
			n++
		}
	}
	return n
}

func describeCalls(cs []hookCall) string {
	var b bytes.Buffer
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s %d verified=%v", c.id, c.status, c.verified)
	}
	return b.String()
}

// webhookConfig adds the receiver (at path) to cfg.
func webhookConfig(cfg *host.Config, r *receiver, path string, events ...string) {
	cfg.Webhooks = append(cfg.Webhooks, host.WebhookConfig{URL: r.srv.URL + path, Secret: r.secret, Events: events, AllowInsecureHTTP: true})
}

// journalWatch sees every write of the endpoints' journal records, so that
// a test can wait for the host to have recorded a delivery.
type journalWatch struct {
	t       *testing.T
	mu      sync.Mutex
	last    map[string]host.WebhookState
	changed chan struct{}
}

// useTiming gives cfg's webhooks timing and a journalWatch.
func useTiming(t *testing.T, cfg *host.Config, timing host.WebhookTiming) *journalWatch {
	j := &journalWatch{t: t, last: map[string]host.WebhookState{}, changed: make(chan struct{})}
	timing.Saved = func(st host.WebhookState) {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.last[st.Endpoint] = st
		close(j.changed)
		j.changed = make(chan struct{})
	}
	host.SetWebhookTiming(cfg, timing)
	return j
}

// waitFor waits until endpoint's last journaled state satisfies cond.
func (j *journalWatch) waitFor(endpoint, what string, cond func(host.WebhookState) bool) host.WebhookState {
	j.t.Helper()
	bound := time.NewTimer(60 * time.Second)
	defer bound.Stop()
	for {
		j.mu.Lock()
		st, ok := j.last[endpoint]
		ch := j.changed
		j.mu.Unlock()
		if ok && cond(st) {
			return st
		}
		select {
		case <-ch:
		case <-bound.C:
			j.t.Fatalf("journal: still waiting for %s of %s after 60 s; last state %+v", what, endpoint, st)
		}
	}
}

// waitCursor waits until endpoint's journaled cursor is cursor.
func (j *journalWatch) waitCursor(endpoint, cursor string) host.WebhookState {
	j.t.Helper()
	return j.waitFor(endpoint, "cursor "+cursor, func(st host.WebhookState) bool { return st.Cursor == cursor })
}

// testWebhookTiming keeps retries quick; the lease outlasts two attempts'
// timeouts so that it never runs out during one.
var testWebhookTiming = host.WebhookTiming{
	First: 20 * time.Millisecond, Max: 100 * time.Millisecond, GiveUp: time.Hour,
	Timeout: 3 * time.Second, Poll: 50 * time.Millisecond, Lease: 8 * time.Second,
}

// logEvents is the whole event log of h.
func logEvents(t *testing.T, h *host.Host) []host.Event {
	t.Helper()
	page, err := h.Events(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// checkDeliveries asserts what an ILS relies on with the default
// concurrency: each loan's events reach it in log order (events of
// different loans may overtake each other), each call signed and with its
// event id as webhook-id, the body being the event's JSON as GET
// /v1/events has it; an event is sent again only after a failed attempt,
// never after a 2xx; none is missing; and only the events in givenUp end
// without a 2xx.
func checkDeliveries(t *testing.T, calls []hookCall, log []host.Event, givenUp ...string) {
	t.Helper()
	checkOrder(t, calls, log, func(ev host.Event) string { return ev.Provider + "/" + ev.Loan }, givenUp...)
}

// checkDeliveriesInLogOrder is checkDeliveries for concurrency 1: the
// whole log in order, one event after the other.
func checkDeliveriesInLogOrder(t *testing.T, calls []hookCall, log []host.Event, givenUp ...string) {
	t.Helper()
	checkOrder(t, calls, log, func(host.Event) string { return "" }, givenUp...)
}

// checkOrder checks the calls of each key (the events of one loan, or of
// the whole log) against the log's events of that key, in order.
func checkOrder(t *testing.T, calls []hookCall, log []host.Event, key func(host.Event) string, givenUp ...string) {
	t.Helper()
	keyOf := map[string]string{}
	logs := map[string][]host.Event{}
	var keys []string
	for _, ev := range log {
		k := key(ev)
		if _, ok := logs[k]; !ok {
			keys = append(keys, k)
		}
		keyOf[ev.ID] = k
		logs[k] = append(logs[k], ev)
	}
	byKey := map[string][]hookCall{}
	for n, c := range calls {
		k, ok := keyOf[c.id]
		if !ok {
			t.Fatalf("call %d: event %s is not in the log; calls: %s", n, c.id, describeCalls(calls))
		}
		byKey[k] = append(byKey[k], c)
	}
	for _, k := range keys {
		checkSequence(t, byKey[k], logs[k], givenUp...)
	}
}

// checkSequence checks calls against events one after the other.
func checkSequence(t *testing.T, calls []hookCall, log []host.Event, givenUp ...string) {
	t.Helper()
	skip := map[string]bool{}
	for _, id := range givenUp {
		skip[id] = true
	}
	i := 0
	for n, c := range calls {
		if !c.verified {
			t.Errorf("call %d (%s): the signature does not verify", n, c.id)
		}
		// A given-up event's failures are followed by the next event.
		for i < len(log) && c.id != log[i].ID && skip[log[i].ID] {
			i++
		}
		if i >= len(log) {
			t.Fatalf("call %d: %s after every event was delivered; calls: %s", n, c.id, describeCalls(calls))
		}
		if c.id != log[i].ID {
			t.Fatalf("call %d: event %s, want %s (log order, no gap, no repeat after a 2xx); calls: %s", n, c.id, log[i].ID, describeCalls(calls))
		}
		want, _ := json.Marshal(log[i])
		if !bytes.Equal(c.body, want) {
			t.Errorf("call %d: body %s, want the event as GET /v1/events has it: %s", n, c.body, want)
		}
		if c.ok() {
			if skip[c.id] {
				t.Errorf("event %s was delivered, want it given up", c.id)
			}
			i++
		}
	}
	for ; i < len(log); i++ {
		if !skip[log[i].ID] {
			t.Fatalf("event %s (%s) never delivered; calls: %s", log[i].ID, log[i].Type, describeCalls(calls))
		}
	}
}
