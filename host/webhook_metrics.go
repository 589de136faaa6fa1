package host

import (
	"github.com/prometheus/client_golang/prometheus"
)

// webhookMetrics are the webhook series, on the host's own registry. Their
// endpoint label is an endpoint's configured name (webhookEndpointName),
// never its URL, so nobody outside adds a series and no receiver's token
// reaches /metrics.
type webhookMetrics struct {
	deliveries *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

// Outcomes of lendgate_webhook_deliveries_total: one per attempt, and
// given_up once per event given up.
var webhookOutcomes = map[string]string{"": "delivered", "status": "refused", "timeout": "timeout", "connection": "unreachable"}

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
		// A number the driver keeps as it reads the log and delivers: a
		// scrape costs the same whatever the journal holds.
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "lendgate_webhook_queued",
			Help:        "Events waiting for delivery to the endpoint, as counted by the node that delivers them (0 on the other nodes of a cluster).",
			ConstLabels: prometheus.Labels{"endpoint": ep.name},
		}, func() float64 { return float64(ep.queued.Load()) }))
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
