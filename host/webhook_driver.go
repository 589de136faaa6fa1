package host

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// webhookDriver is one endpoint's delivery on this node.
type webhookDriver struct {
	w          *webhooks
	ep         *webhookEndpoint
	held       bool
	leaseUntil time.Time
	st         webhookState
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
		if errors.Is(err, errWebhookLeaseLost) {
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
