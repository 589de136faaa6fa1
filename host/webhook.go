package host

import (
	"context"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/hashicorp/go-hclog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Webhooks (api.md §8) push the event log to the endpoints of
// Config.Webhooks. Each endpoint has a cursor on the log, journaled beside
// it: its pending deliveries are the events after the cursor, so nothing is
// copied per event and a restart continues where the journal stands. One
// node at a time drives an endpoint (a lease in the journal, renewed while
// it works), so in a cluster each event is delivered by one node, in log
// order: event N+1 is sent only once N is delivered or given up.

// WebhookState is an endpoint's journaled delivery state.
type WebhookState struct {
	// Endpoint is the endpoint's name (its URL without query or user info).
	Endpoint string `json:"endpoint"`
	// Cursor is the cursor of the last event delivered or given up ("":
	// none yet).
	Cursor string `json:"cursor,omitempty"`
	// Attempts counts failed attempts since the last delivery; the retry
	// backoff grows with it.
	Attempts int `json:"attempts,omitempty"`
	// FailingSince is the first failed attempt since the last delivery.
	FailingSince time.Time `json:"failing_since,omitzero"`
	// EventFailingSince is the first failed attempt of the event after
	// Cursor; it is given up webhookGiveUp later.
	EventFailingSince time.Time `json:"event_failing_since,omitzero"`
	LastSuccess       time.Time `json:"last_success,omitzero"`
	// LastError is the kind of the last failure ("status", "timeout",
	// "connection"); LastStatus its HTTP status, if any.
	LastError  string `json:"last_error,omitempty"`
	LastStatus int    `json:"last_status,omitempty"`
	// GivenUp counts the events given up.
	GivenUp int64 `json:"given_up,omitempty"`
}

// ErrWebhookLeaseLost is returned by a journal's SaveWebhook when another
// node has taken the endpoint's lease.
var ErrWebhookLeaseLost = errors.New("webhook lease held by another node")

// webhookJournal is what webhook delivery needs of the store: the event
// log and a record per endpoint. MemoryStore, BoltStore and PostgresStore
// have it (store_*_webhooks.go); a Config.StoreImpl without it cannot have
// webhooks.
type webhookJournal interface {
	Events(ctx context.Context, after string, limit int) ([]Event, error)
	// OpenWebhook journals endpoint with its cursor at the end of the log,
	// unless it is journaled already.
	OpenWebhook(ctx context.Context, endpoint string) error
	// LeaseWebhook gives endpoint's lease to holder until until when it is
	// free, already holder's, or expired (ending before now), and returns
	// the endpoint's state; false when another holder has it; ErrNotFound
	// for an endpoint never opened.
	LeaseWebhook(ctx context.Context, endpoint, holder string, now, until time.Time) (WebhookState, bool, error)
	// SaveWebhook writes st while holder holds its lease, extending the
	// lease to until; ErrWebhookLeaseLost when holder does not hold it.
	SaveWebhook(ctx context.Context, st WebhookState, holder string, until time.Time) error
	// ReleaseWebhook frees endpoint's lease if holder holds it.
	ReleaseWebhook(ctx context.Context, endpoint, holder string) error
	// WebhookState returns endpoint's state, or ErrNotFound.
	WebhookState(ctx context.Context, endpoint string) (WebhookState, error)
}

// webhookTiming are the delays of delivery; tests shorten them through
// Config.webhookTiming. A lease must outlast two attempts' timeouts: it is
// renewed before an attempt when less than half of it is left.
type webhookTiming struct {
	first, max time.Duration // retry backoff: the first delay and the cap
	giveUp     time.Duration // an event failing this long is given up
	timeout    time.Duration // one attempt, answer included
	poll       time.Duration // an idle driver reads the log this often (other nodes' events)
	lease      time.Duration // renewed at half; other nodes try to take it every third
	roots      *x509.CertPool
	saved      func(WebhookState) // tests: called after each journal write
}

func defaultWebhookTiming() webhookTiming {
	return webhookTiming{first: 2 * time.Second, max: time.Hour, giveUp: 72 * time.Hour,
		timeout: 10 * time.Second, poll: time.Second, lease: time.Minute}
}

// webhookDelay is the wait after the attempts-th failure in a row: from
// first, doubling, capped at max, with jitter in its upper half (so the
// first retry comes within first).
func webhookDelay(first, max time.Duration, attempts int) time.Duration {
	d := first
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

// webhooks delivers the event log to the configured endpoints.
type webhooks struct {
	journal   webhookJournal
	log       hclog.Logger
	node      string // this host's lease holder id
	timing    webhookTiming
	client    webhookClient
	metrics   *webhookMetrics
	endpoints []*webhookEndpoint
}

type webhookEndpoint struct {
	name   string // journal key, label and what logs show
	url    string // with its query: never logged
	events []string
	filter eventFilter
	signer *standardwebhooks.Webhook
	poke   chan struct{}
}

// startWebhooks journals each endpoint of cfg.Webhooks, checked by New (a
// new one starts at the end of the log), and starts one delivery loop per
// endpoint. On an error it closes the store it opened.
func (h *Host) startWebhooks(ctx context.Context) (err error) {
	if len(h.cfg.Webhooks) == 0 {
		return nil
	}
	defer func() {
		if err != nil && h.ownStore {
			h.store.Close()
		}
	}()
	journal, ok := h.store.(webhookJournal)
	if !ok {
		return fmt.Errorf("config: webhooks need a store that journals their deliveries (bolt, postgres or memory); %T does not", h.store)
	}
	timing := defaultWebhookTiming()
	if h.cfg.webhookTiming != nil {
		timing = *h.cfg.webhookTiming
	}
	var id [8]byte
	crand.Read(id[:])
	w := &webhooks{journal: journal, log: h.log.Named("webhooks"), node: hex.EncodeToString(id[:]),
		timing: timing, client: newWebhookClient(timing)}
	for _, c := range h.cfg.Webhooks {
		u, _ := url.Parse(c.URL) // checked by validateWebhooks
		key, _ := webhookKey(c.Secret)
		signer, _ := standardwebhooks.NewWebhookRaw(key)
		ep := &webhookEndpoint{name: webhookName(u), url: c.URL, events: c.Events, filter: eventFilter(c.Events),
			signer: signer, poke: make(chan struct{}, 1)}
		if err := journal.OpenWebhook(ctx, ep.name); err != nil {
			return fmt.Errorf("opening webhook %s: %w", ep.name, err)
		}
		w.endpoints = append(w.endpoints, ep)
	}
	w.metrics = newWebhookMetrics(h.metrics.reg, w)
	h.hooks = w
	for _, ep := range w.endpoints {
		h.bg.Add(1)
		go func() {
			defer h.bg.Done()
			w.run(ep, h.closed)
		}()
	}
	return nil
}

// poke wakes the endpoints' loops after an event was appended here.
func (w *webhooks) poke() {
	if w == nil {
		return
	}
	for _, ep := range w.endpoints {
		select {
		case ep.poke <- struct{}{}:
		default:
		}
	}
}

// run drives ep while this node holds its lease, and otherwise waits to
// take it over, until closed.
func (w *webhooks) run(ep *webhookEndpoint, closed <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	d := &webhookDriver{w: w, ep: ep}
	defer func() {
		if d.held {
			// Hand over at once rather than when the lease runs out.
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := w.journal.ReleaseWebhook(rctx, ep.name, w.node); err != nil {
				w.log.Warn("releasing webhook lease failed", "endpoint", ep.name, "error", err)
			}
		}
	}()
	for {
		d.drive(ctx)
		wait := w.timing.poll
		if !d.held {
			wait = w.timing.lease / 3
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-ep.poke:
		case <-t.C:
		}
		t.Stop()
	}
}

// webhookDriver is one endpoint's delivery on this node.
type webhookDriver struct {
	w          *webhooks
	ep         *webhookEndpoint
	held       bool
	leaseUntil time.Time
	st         WebhookState
}

// lease makes sure this node holds the endpoint's lease for at least half
// its length, taking or renewing it; st is re-read on every renewal.
func (d *webhookDriver) lease(ctx context.Context) bool {
	w := d.w
	now := time.Now()
	if d.held && now.Before(d.leaseUntil.Add(-w.timing.lease/2)) {
		return true
	}
	until := now.Add(w.timing.lease)
	st, ok, err := w.journal.LeaseWebhook(ctx, d.ep.name, w.node, now, until)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			w.log.Warn("taking the webhook lease failed", "endpoint", d.ep.name, "error", err)
		}
		d.held = false
		return false
	case !ok:
		if d.held {
			w.log.Info("another node now delivers this endpoint's events", "endpoint", d.ep.name)
		}
		d.held = false
		return false
	}
	if !d.held {
		w.log.Debug("delivering this endpoint's events from this node", "endpoint", d.ep.name, "cursor", st.Cursor)
	}
	d.st, d.held, d.leaseUntil = st, true, until
	return true
}

// save journals d.st, extending the lease. On failure this node stops
// driving until it re-reads the journal.
func (d *webhookDriver) save(ctx context.Context) bool {
	w := d.w
	until := time.Now().Add(w.timing.lease)
	if err := w.journal.SaveWebhook(context.WithoutCancel(ctx), d.st, w.node, until); err != nil {
		if errors.Is(err, ErrWebhookLeaseLost) {
			w.log.Info("another node now delivers this endpoint's events", "endpoint", d.ep.name)
		} else {
			w.log.Error("journaling webhook delivery failed", "endpoint", d.ep.name, "cursor", d.st.Cursor, "error", err)
		}
		d.held = false
		return false
	}
	d.leaseUntil = until
	if w.timing.saved != nil {
		w.timing.saved(d.st)
	}
	return true
}

// webhookBatch is how many events a driver reads at a time.
const webhookBatch = 100

// drive delivers the events after the cursor until none is left, this node
// loses the lease, or ctx ends.
func (d *webhookDriver) drive(ctx context.Context) {
	for ctx.Err() == nil && d.lease(ctx) {
		evs, err := d.w.journal.Events(ctx, d.st.Cursor, webhookBatch)
		if err != nil {
			if ctx.Err() == nil {
				d.w.log.Warn("reading the event log for webhooks failed", "endpoint", d.ep.name, "error", err)
			}
			return
		}
		skipped := false
		for _, ev := range evs {
			if !d.ep.filter.matches(ev.Type) {
				d.st.Cursor, skipped = ev.Cursor, true
				continue
			}
			if !d.deliver(ctx, ev) {
				return
			}
			skipped = false
		}
		if skipped && !d.save(ctx) {
			return
		}
		if len(evs) < webhookBatch {
			return
		}
	}
}

// deliver sends ev until it is delivered or given up, waiting out the
// backoff between attempts; false when this node must stop driving
// (closing, lease lost, journal failing).
func (d *webhookDriver) deliver(ctx context.Context, ev Event) bool {
	w, ep := d.w, d.ep
	body, err := json.Marshal(ev)
	if err != nil { // an Event always marshals; keep the loop honest anyway
		w.log.Error("encoding event failed", "endpoint", ep.name, "event", ev.ID, "error", err)
		return false
	}
	for {
		if !d.lease(ctx) {
			return false
		}
		// Close lets an attempt in flight finish (within its timeout) and
		// journals its outcome: cutting it off could lose a 2xx that the
		// receiver already sent, and the event would come again.
		res := w.client.send(context.WithoutCancel(ctx), ep, ev.ID, body)
		now := time.Now().UTC()
		w.metrics.attempt(ep, res)
		if res.kind == "" {
			d.st.Cursor, d.st.Attempts, d.st.LastSuccess = ev.Cursor, 0, now
			d.st.FailingSince, d.st.EventFailingSince = time.Time{}, time.Time{}
			d.st.LastError, d.st.LastStatus = "", res.status
			w.log.Debug("webhook delivered", "endpoint", ep.name, "event", ev.ID, "status", res.status, "duration", res.took)
			return d.save(ctx)
		}
		d.st.Attempts++
		d.st.LastError, d.st.LastStatus = res.kind, res.status
		if d.st.FailingSince.IsZero() {
			d.st.FailingSince = now
		}
		if d.st.EventFailingSince.IsZero() {
			d.st.EventFailingSince = now
		}
		deadline := d.st.EventFailingSince.Add(w.timing.giveUp)
		delay := webhookDelay(w.timing.first, w.timing.max, d.st.Attempts)
		givenUp := !now.Before(deadline)
		if givenUp {
			d.st.Cursor, d.st.EventFailingSince = ev.Cursor, time.Time{}
			d.st.GivenUp++
			w.metrics.givenUp(ep)
			w.log.Error("webhook event given up", "endpoint", ep.name, "event", ev.ID,
				"failing_for", w.timing.giveUp.String(), "status", res.status, "error", res.kind)
		} else {
			delay = min(delay, deadline.Sub(now))
			w.log.Warn("webhook delivery failed", "endpoint", ep.name, "event", ev.ID, "attempt", d.st.Attempts,
				"status", res.status, "error", res.kind, "detail", res.detail, "retry_in", delay.Round(time.Millisecond).String())
		}
		if !d.save(ctx) || !d.sleep(ctx, delay) {
			return false
		}
		if givenUp {
			return true
		}
	}
}

// sleep waits d, keeping the lease; false when ctx ends or the lease is
// lost.
func (d *webhookDriver) sleep(ctx context.Context, wait time.Duration) bool {
	end := time.Now().Add(wait)
	for {
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		t := time.NewTimer(min(left, d.w.timing.lease/3))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		if !d.lease(ctx) {
			return false
		}
	}
}
