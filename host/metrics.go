package host

import (
	"net/http"
	"sync"
	"time"

	"github.com/lendgate/lendgate/host/internal/logsafe"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series of api.md §6, on a registry of the
// host's own (no global registry: two hosts in one process stay apart).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	breaker     *prometheus.GaugeVec
	rateLimited *prometheus.CounterVec
	restarts    *prometheus.CounterVec
	up          *prometheus.GaugeVec
	// linksDropped counts distributor links the host refused to hand on
	// (api.md §7: a scheme other than http(s), or beyond the size caps).
	linksDroppedTotal *prometheus.CounterVec
	// series keeps each call series' counter and histogram once looked
	// up (seriesKey → *callSeries): WithLabelValues hashes its labels and
	// takes a lock on every call. The keys are a closed set (instances or
	// "unknown", the host's ops, the code table), so it stays small.
	series sync.Map
}

// seriesKey names one call series.
type seriesKey struct{ provider, op, code string }

// callSeries is a call series' counter and, for an instance, its
// histogram (nil for logsafe.UnknownLabel).
type callSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lendgate_requests_total", Help: "Calls to provider instances by operation and outcome code (ok for success).",
		}, []string{"provider", "op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lendgate_request_duration_seconds", Help: "Duration of calls to provider instances.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"provider", "op"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lendgate_breaker_state", Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
		}, []string{"provider"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lendgate_rate_limited_total", Help: "Calls refused by an instance's rate limiter.",
		}, []string{"provider"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lendgate_plugin_restarts_total", Help: "Plugin process restarts after a crash.",
		}, []string{"plugin"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lendgate_plugin_up", Help: "1 while the plugin process is serving.",
		}, []string{"plugin"}),
		linksDroppedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lendgate_links_dropped_total", Help: "Distributor links dropped: a scheme other than http(s), or too many or too long.",
		}, []string{"provider"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.breaker, m.rateLimited, m.restarts, m.up, m.linksDroppedTotal)
	return m
}

// Observe counts one call (resilience.CallMetrics). provider is a
// configured instance or logsafe.UnknownLabel, op a constant of the host, code "ok" or a unified code: the
// series form a closed set whatever callers send. A call at an unknown
// provider reached no distributor, so it is counted but not timed (one
// series per op and code, not a histogram's dozen).
func (m *metrics) Observe(provider, op, code string, d time.Duration) {
	if code == "" {
		code = "ok"
	}
	s := m.callSeries(provider, op, code)
	s.count.Inc()
	if s.duration != nil {
		s.duration.Observe(d.Seconds())
	}
}

// callSeries returns the series of a call, looking it up the first time.
func (m *metrics) callSeries(provider, op, code string) *callSeries {
	k := seriesKey{provider, op, code}
	if s, ok := m.series.Load(k); ok {
		return s.(*callSeries)
	}
	s := &callSeries{count: m.requests.WithLabelValues(provider, op, code)}
	if provider != logsafe.UnknownLabel {
		s.duration = m.duration.WithLabelValues(provider, op)
	}
	got, _ := m.series.LoadOrStore(k, s)
	return got.(*callSeries)
}

// BreakerState records an instance's breaker state (resilience.Metrics).
func (m *metrics) BreakerState(provider string, state int) {
	m.breaker.WithLabelValues(provider).Set(float64(state))
}

// Limited counts a call refused by an instance's limiter (resilience.Metrics).
func (m *metrics) Limited(provider string) { m.rateLimited.WithLabelValues(provider).Inc() }

// linksDropped counts n links of a configured instance dropped.
func (m *metrics) linksDropped(provider string, n int) {
	if m != nil && n > 0 {
		m.linksDroppedTotal.WithLabelValues(provider).Add(float64(n))
	}
}

func (m *metrics) pluginRestart(plugin string) { m.restarts.WithLabelValues(plugin).Inc() }

func (m *metrics) pluginUp(plugin string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(plugin).Set(v)
}

// Bounds of /metrics, which needs no key (api.md §7): a scrape reads only
// numbers the host keeps (no collector reads the journal), a few run at
// once and the others are answered 503 at once, and one that takes longer
// than the timeout is answered 503.
const (
	maxScrapesInFlight = 4
	scrapeTimeout      = 10 * time.Second
)

// handler serves the registry within those bounds; the host makes it once
// (a handler has its own count of scrapes in flight).
func (m *metrics) handler(timeout time.Duration) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		MaxRequestsInFlight: maxScrapesInFlight,
		Timeout:             timeout,
	})
}
