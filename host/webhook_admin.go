package host

import (
	"context"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// maxQueuedScan bounds the events the admin view reads past an endpoint's
// cursor to count its queue.
const maxQueuedScan = 10000

// Webhooks describes each configured webhook endpoint's delivery, as the
// journal holds it (the same on every node of a cluster): its queue is
// counted from the journaled cursor, reading at most maxQueuedScan events.
// (Metrics never read the journal: lendgate_webhook_queued is the driving
// node's own count.)
func (h *Host) Webhooks(ctx context.Context) ([]WebhookStatus, error) {
	out := []WebhookStatus{}
	if h.hooks == nil {
		return out, nil
	}
	unavailable := func(err error) error {
		h.log.Error("reading the webhook journal failed", "error", err)
		return sdk.Wrap(sdk.CodeJournalUnavailable, err, "the webhook journal cannot be read")
	}
	for _, ep := range h.hooks.endpoints {
		st, err := h.hooks.journal.WebhookState(ctx, ep.key)
		if err != nil {
			return nil, unavailable(err)
		}
		n, capped, err := h.hooks.queued(ctx, ep, st.Cursor)
		if err != nil {
			return nil, unavailable(err)
		}
		events := ep.events
		if events == nil {
			events = []string{"*"}
		}
		out = append(out, WebhookStatus{Name: ep.name, Events: events, Concurrency: ep.concurrency, Cursor: st.Cursor,
			Queued: n, QueuedCapped: capped, LastSuccess: optTime(st.LastSuccess), FailingSince: optTime(st.FailingSince),
			Attempts: st.Attempts, LastError: st.LastError, LastStatus: st.LastStatus, GivenUp: st.GivenUp})
	}
	return out, nil
}

// queued counts the events after cursor that ep wants, reading at most
// maxQueuedScan events of the log.
func (w *webhooks) queued(ctx context.Context, ep *webhookEndpoint, cursor string) (n int, capped bool, err error) {
	const page = 1000
	for read := 0; read < maxQueuedScan; read += page {
		evs, err := w.journal.Events(ctx, cursor, page)
		if err != nil {
			return 0, false, err
		}
		for i := range evs {
			if ep.wants(&evs[i]) {
				n++
			}
		}
		if len(evs) < page {
			return n, false, nil
		}
		cursor = evs[len(evs)-1].Cursor
	}
	return n, true, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
