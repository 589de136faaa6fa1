package host

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxScrapesInFlight is how many /metrics requests a host serves at once.
const MaxScrapesInFlight = maxScrapesInFlight

// SetScrapeTimeout shortens the /metrics timeout of hosts made from cfg.
func SetScrapeTimeout(cfg *Config, d time.Duration) { cfg.scrapeTimeout = d }

// RegisterCollector adds c to h's metrics, for tests that need a scrape
// to take its time.
func (h *Host) RegisterCollector(c prometheus.Collector) { h.metrics.reg.MustRegister(c) }
