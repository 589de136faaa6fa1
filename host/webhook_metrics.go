package host

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// webhookMetrics are the webhook series, on the host's own registry. Their
// endpoint label is an endpoint's name from the config (webhookName), so
// nobody outside adds a series.
type webhookMetrics struct {
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

// Outcomes of lendgate_webhook_deliveries_total: one per attempt, and
// given_up once per event given up.
var webhookOutcomes = map[string]string{"": "delivered", "status": "refused", "timeout": "timeout", "connection": "unreachable"}

// queuedTimeout bounds the journal reads of one scrape's queued gauge.
const queuedTimeout = 2 * time.Second

func newWebhookMetrics(reg *prometheus.Registry, w *webhooks) *webhookMetrics {
	m := &webhookMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lendgate_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome (delivered, refused: an answer other than 2xx, timeout, unreachable), and events given up (given_up).",
		}, []string{"endpoint", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lendgate_webhook_delivery_duration_seconds", Help: "Duration of webhook delivery attempts.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"endpoint"}),
	}
	reg.MustRegister(m.deliveries, m.duration)
	for _, ep := range w.endpoints {
		// Every series exists from the start, so that rates and alerts
		// see a zero rather than nothing.
		for _, o := range webhookOutcomes {
			m.deliveries.WithLabelValues(ep.name, o)
		}
		m.deliveries.WithLabelValues(ep.name, "given_up")
		var last atomic.Int64
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "lendgate_webhook_queued",
			Help:        "Events waiting for delivery to the endpoint (read from the journal at scrape time; at most 10000).",
			ConstLabels: prometheus.Labels{"endpoint": ep.name},
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), queuedTimeout)
			defer cancel()
			if st, err := w.journal.WebhookState(ctx, ep.name); err == nil {
				if n, _, err := w.queued(ctx, ep, st.Cursor); err == nil {
					last.Store(int64(n))
				}
			}
			return float64(last.Load()) // the last count when the journal does not answer
		}))
	}
	return m
}

func (m *webhookMetrics) attempt(ep *webhookEndpoint, r webhookResult) {
	m.deliveries.WithLabelValues(ep.name, webhookOutcomes[r.kind]).Inc()
	m.duration.WithLabelValues(ep.name).Observe(r.took.Seconds())
}

func (m *webhookMetrics) givenUp(ep *webhookEndpoint) {
	m.deliveries.WithLabelValues(ep.name, "given_up").Inc()
}
