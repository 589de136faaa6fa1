package host

import (
	"context"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/journal"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Decisions where the contract is silent:
//   - Webhooks keep no copy of events: each endpoint has a cursor on the
//     log (the end of the prefix of the log delivered or given up),
//     journaled with its failure count and failing-since in the store's
//     own table or bucket. A new endpoint starts at the end of the log; one
//     removed and added back resumes where it stopped.
//   - An endpoint is named by its configured name (default webhook-N, N
//     its 1-based position): that is what logs, metric labels and the admin
//     view show, never the URL, whose path may carry a receiver's token.
//     The journal keeps its record under the URL without query and user
//     info, as journals written before names did: an upgrade keeps every
//     cursor, renaming an endpoint keeps it too, and entries reordered
//     (which renumbers default names) never swap cursors. Changing the URL
//     (beyond its query) makes a new endpoint.
//   - Order is per loan: up to `concurrency` (default 8) deliveries are in
//     flight, each loan's events in log order (an event is not sent before
//     the earlier events of its loan are delivered or given up); events of
//     no loan keep their order among themselves. Concurrency 1 sends the
//     whole log in order, one at a time. The cursor moves only over a
//     contiguous prefix of the log, and the window of events read past it
//     is bounded (webhookWindowSize), so one event that keeps failing
//     stalls the endpoint only once that many events after it are read.
//   - The cursor is journaled at most every 250 ms while deliveries
//     advance, and at Close: a crash may send again what was delivered
//     since the last write (receivers deduplicate by webhook-id), never
//     skip an event.
//   - One node at a time drives an endpoint: a lease of 60 s in its
//     journal record, renewed at half, taken over by another node (which
//     checks every 20 s) once it lapses or is handed back at Close. Every
//     journal write is fenced by the holder. The holder reads the log every
//     second for other nodes' events and is woken at once for its own.
//   - Webhook retries: per event, first within 2 s, doubling with jitter in
//     the upper half, capped at 1 h; an event failing 3 days after its
//     first failure is given up. The endpoint backs off as a whole too:
//     after a failed attempt it sends one attempt at a time (preferring an
//     event not tried yet, so one refused event does not hold the others),
//     each after a delay that grows with the failures in a row, until a
//     2xx; so a dead receiver gets one attempt an hour. 3xx is a failure
//     and never followed. Close lets the attempts in flight finish and
//     journals them, so a 2xx is not lost to a shutdown.
//   - lendgate_webhook_queued is counted by the node that drives the
//     endpoint as it reads the log: the events of its window not delivered,
//     plus those counted past the window. A scrape reads a number, never
//     the journal; other nodes report 0. The admin view (admin key) counts
//     from the journaled cursor instead, the same on every node, reading at
//     most 10 000 events.
//   - Webhook secrets hold 24 to 64 bytes (the Standard Webhooks
//     recommendation); http URLs need allow_insecure_http, as providers'
//     base URLs do. Event filters must match a known type, so a typo is a
//     configuration error, not a silent endpoint.

// Webhooks (api.md §8) push the event log to the endpoints of
// Config.Webhooks. Each endpoint has a cursor on the log, journaled beside
// it: its pending deliveries are the events after the cursor, so nothing is
// copied per event and a restart continues where the journal stands. One
// node at a time drives an endpoint (a lease in the journal, renewed while
// it works), so in a cluster each event is delivered by one node; each
// loan's events in log order.

// webhookState is an endpoint's journaled delivery state: the journal's
// record, used as it is.
type webhookState = journal.WebhookState

// webhookJournal is what webhook delivery needs of the store: the event
// log and a record per endpoint. The journal drivers of this module have
// it (journal.Webhooks, adapted in store.go); a Config.StoreImpl without
// it cannot have webhooks.
type webhookJournal interface {
	Events(ctx context.Context, after string, limit int) ([]Event, error)
	// OpenWebhook journals endpoint with its cursor at the end of the log,
	// unless it is journaled already.
	OpenWebhook(ctx context.Context, endpoint string) error
	// LeaseWebhook gives endpoint's lease to holder until until when it is
	// free, already holder's, or expired (ending before now), and returns
	// the endpoint's state; false when another holder has it; ErrNotFound
	// for an endpoint never opened.
	LeaseWebhook(ctx context.Context, endpoint, holder string, now, until time.Time) (webhookState, bool, error)
	// SaveWebhook writes st while holder holds its lease, extending the
	// lease to until; ErrWebhookLeaseLost when holder does not hold it.
	SaveWebhook(ctx context.Context, st webhookState, holder string, until time.Time) error
	// ReleaseWebhook frees endpoint's lease if holder holds it.
	ReleaseWebhook(ctx context.Context, endpoint, holder string) error
	// WebhookState returns endpoint's state, or ErrNotFound.
	WebhookState(ctx context.Context, endpoint string) (webhookState, error)
}

// webhookTiming are the delays of delivery; tests shorten them through
// Config.webhookTiming. A lease must outlast two attempts' timeouts: it is
// renewed when less than half of it is left.
type webhookTiming struct {
	first, max time.Duration // retry backoff: the first delay and the cap
	giveUp     time.Duration // an event failing this long is given up
	timeout    time.Duration // one attempt, answer included
	poll       time.Duration // the driver reads the log this often (other nodes' events)
	lease      time.Duration // renewed at half; other nodes try to take it every third
	saveEvery  time.Duration // the cursor is journaled at most this often while it moves
	roots      *x509.CertPool
	saved      func(webhookState) // tests: called after each journal write
	closing    func()             // tests: called when Close has stopped a loop's new work
}

func defaultWebhookTiming() webhookTiming {
	return webhookTiming{first: 2 * time.Second, max: time.Hour, giveUp: 72 * time.Hour,
		timeout: 10 * time.Second, poll: time.Second, lease: time.Minute, saveEvery: 250 * time.Millisecond}
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

// webhookEndpoint is one endpoint: its configuration and what this node
// publishes of its delivery. Everything per endpoint lives here (a
// dimension such as a library is one more field).
type webhookEndpoint struct {
	name        string // configured: labels, logs and the admin view
	key         string // the journal's key (URL without query): never shown
	url         string // with its query: never logged
	events      []string
	filter      eventFilter
	concurrency int
	signer      *standardwebhooks.Webhook
	poke        chan struct{}

	// queued is the queue as the driver counts it (0 when this node does
	// not drive the endpoint): what lendgate_webhook_queued reads, never
	// the journal.
	queued atomic.Int64
}

// wants says whether ep takes ev.
func (ep *webhookEndpoint) wants(ev *Event) bool { return ep.filter.matches(ev.Type) }

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
		return fmt.Errorf("config: webhooks need a store that journals their deliveries (bolt, postgres or memory); %T does not", h.cfg.StoreImpl)
	}
	timing := defaultWebhookTiming()
	if h.cfg.webhookTiming != nil {
		timing = *h.cfg.webhookTiming
	}
	var id [8]byte
	crand.Read(id[:])
	w := &webhooks{journal: journal, log: h.log.Named("webhooks"), node: hex.EncodeToString(id[:]),
		timing: timing, client: newWebhookClient(timing)}
	for i, c := range h.cfg.Webhooks {
		u, _ := url.Parse(c.URL) // checked by validateWebhooks
		key, _ := webhookKey(c.Secret)
		signer, _ := standardwebhooks.NewWebhookRaw(key)
		ep := &webhookEndpoint{name: webhookEndpointName(i, c), key: webhookJournalKey(u), url: c.URL,
			events: c.Events, filter: eventFilter(c.Events), concurrency: webhookConcurrency(c),
			signer: signer, poke: make(chan struct{}, 1)}
		if err := journal.OpenWebhook(ctx, ep.key); err != nil {
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
			if w.timing.closing != nil {
				w.timing.closing()
			}
		case <-ctx.Done():
		}
	}()
	for {
		now := time.Now()
		until := now.Add(w.timing.lease)
		st, held, err := w.journal.LeaseWebhook(ctx, ep.key, w.node, now, until)
		wait := w.timing.lease / 3
		switch {
		case err != nil:
			if ctx.Err() == nil {
				w.log.Warn("taking the webhook lease failed", "endpoint", ep.name, "error", err)
			}
		case held:
			w.log.Debug("delivering this endpoint's events from this node", "endpoint", ep.name, "cursor", st.Cursor)
			s := newWebhookSession(w, ep, st, until)
			s.run(ctx)
			if s.held && ctx.Err() != nil {
				// Hand over at once rather than when the lease runs out.
				rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if err := w.journal.ReleaseWebhook(rctx, ep.key, w.node); err != nil {
					w.log.Warn("releasing webhook lease failed", "endpoint", ep.name, "error", err)
				}
				cancel()
			}
			if s.held {
				wait = w.timing.poll // a journal that failed: read it again soon
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
