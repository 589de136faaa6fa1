package odlsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxNotifyBackoff bounds the wait between two tries of a notification.
const maxNotifyBackoff = 2 * time.Second

// Delivery is one notification the simulator sent (or tried to).
type Delivery struct {
	LoanID, CheckoutID string
	// Status is the LSD status notified.
	Status string
	URL    string
	// Attempts is how many times it was POSTed; LastStatus the HTTP
	// status of the last try (0: no answer).
	Attempts, LastStatus int
	// Delivered: a try was answered 2xx. Done: no try is left (delivered,
	// out of tries, or dropped by Close).
	Delivered, Done bool
}

// notify queues the notification of ln's status: a minimal LSD
// {"id","status"} POSTed to its notification_url (ODL §6). Call with s.mu
// held.
func (s *Sim) notify(ln *loan) {
	if ln.notificationURL == "" {
		return
	}
	body, _ := json.Marshal(map[string]string{"id": ln.id, "status": ln.status})
	s.notifier.enqueue(&Delivery{LoanID: ln.id, CheckoutID: ln.checkoutID, Status: ln.status, URL: ln.notificationURL}, body)
}

// Deliveries returns every notification queued so far, oldest first.
func (s *Sim) Deliveries() []Delivery { return s.notifier.list() }

// notifier sends notifications one at a time, in order, each retried on
// any answer but 2xx with a doubling backoff, until close.
type notifier struct {
	client   *http.Client
	attempts int
	backoff  time.Duration
	changed  func()

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	queue   []queued
	all     []*Delivery
	running bool
	closed  bool
}

type queued struct {
	d    *Delivery
	body []byte
}

func newNotifier(c *http.Client, attempts int, backoff time.Duration, changed func()) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{client: c, attempts: attempts, backoff: backoff, changed: changed, ctx: ctx, cancel: cancel}
}

func (n *notifier) enqueue(d *Delivery, body []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.all = append(n.all, d)
	if n.closed {
		d.Done = true
		return
	}
	n.queue = append(n.queue, queued{d: d, body: body})
	if !n.running {
		n.running = true
		n.wg.Add(1)
		go n.run()
	}
}

// run sends the queue, then ends; enqueue starts it again.
func (n *notifier) run() {
	defer n.wg.Done()
	for {
		n.mu.Lock()
		if len(n.queue) == 0 || n.closed {
			n.running = false
			n.mu.Unlock()
			return
		}
		q := n.queue[0]
		n.queue = n.queue[1:]
		n.mu.Unlock()
		n.deliver(q)
		n.changed()
	}
}

// deliver tries q until a 2xx answer, its tries run out or close.
func (n *notifier) deliver(q queued) {
	wait := n.backoff
	for attempt := 1; attempt <= n.attempts; attempt++ {
		status := n.post(q)
		n.mu.Lock()
		q.d.Attempts, q.d.LastStatus = attempt, status
		if status >= 200 && status < 300 {
			q.d.Delivered, q.d.Done = true, true
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		n.changed()
		if attempt == n.attempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			n.finish(q.d)
			return
		}
		wait = min(2*wait, maxNotifyBackoff)
	}
	n.finish(q.d)
}

func (n *notifier) finish(d *Delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d.Done = true
}

// post sends q once and returns the answer's status (0: none).
func (n *notifier) post(q queued) int {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, q.d.URL, bytes.NewReader(q.body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", TypeLSD)
	resp, err := n.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode
}

func (n *notifier) list() []Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Delivery, len(n.all))
	for i, d := range n.all {
		out[i] = *d
	}
	return out
}

// close drops what is queued, stops a try in progress and waits for the
// sender to end.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	for _, q := range n.queue {
		q.d.Done = true
	}
	n.queue = nil
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
}
