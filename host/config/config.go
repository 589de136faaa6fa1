// Package config holds the parts of lendgate's configuration that are plain
// data: the settings of the log, the journal, the cluster, each plugin and
// provider instance, their limits and breakers, and each webhook endpoint,
// with their JSON form and defaults. host.Config assembles them (host names
// each with an alias: host.Provider is config.Provider) and
// host.LoadConfig reads the file.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// Log sets the host's log level ("trace" … "error") and format
// ("json" or "text").
type Log struct {
	Level  string `json:"level,omitempty"`
	Format string `json:"format,omitempty"`
}

// Store chooses the journal's driver ("memory" and "bolt") and its DSN
// (for bolt, the file path).
type Store struct {
	Driver string `json:"driver,omitempty"`
	DSN    string `json:"dsn,omitempty"`
	// IdempotencyTTL is how long Idempotency-Keys are kept (default 24h).
	IdempotencyTTL Duration `json:"idempotency_ttl,omitempty"`
	// EventRetention is how long events are kept (default 90 days, never
	// less than IdempotencyTTL); see retention.go.
	EventRetention Duration `json:"event_retention,omitempty"`
}

// Cluster shares limits and breaker state across nodes (Redis address).
type Cluster struct {
	Redis string `json:"redis,omitempty"`
}

// Plugin names a plugin binary and pins its SHA-256 (hex). A plugin
// without a pin must say so with Unpinned (development only: warned at
// every start, shown as "pinned": false).
type Plugin struct {
	Path     string `json:"path"`
	SHA256   string `json:"sha256,omitempty"`
	Unpinned bool   `json:"unpinned,omitempty"`

	// written is Path as the config file gave it, when Resolve made it
	// relative to the file's directory (for the error about a missing
	// binary).
	written string
}

// Validate checks plugin name's entry: a path, and a pin of 64 hex digits
// unless the plugin is declared unpinned.
func (p Plugin) Validate(name string) error {
	if p.Path == "" {
		return fmt.Errorf("config: plugins.%s.path is required", name)
	}
	if p.SHA256 == "" {
		if !p.Unpinned {
			return fmt.Errorf("config: plugins.%s.sha256 is required (the SHA-256 of the binary; \"unpinned\": true only for development)", name)
		}
		return nil
	}
	if !ValidPin(p.SHA256) {
		return fmt.Errorf("config: plugins.%s.sha256 must be 64 hex digits", name)
	}
	return nil
}

// ValidPin reports whether s is a SHA-256 in hex (either case).
func ValidPin(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Resolve makes a relative Path relative to dir, the configuration file's
// directory, remembering how the file wrote it for BinaryError.
func (p Plugin) Resolve(dir string) Plugin {
	if p.Path != "" && !filepath.IsAbs(p.Path) {
		p.written = p.Path
		p.Path = filepath.Join(dir, p.Path)
	}
	return p
}

// BinaryError explains a plugin binary that cannot be read: the path tried
// and, when the config gave it relative, where it was resolved from.
func (cfg Plugin) BinaryError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == cfg.Path {
		err = pe.Err // the path is said once, below
	}
	if cfg.written != "" {
		return fmt.Errorf("plugin binary %s (%q in the config; relative paths are relative to the config file's directory): %w",
			cfg.Path, cfg.written, err)
	}
	return fmt.Errorf("plugin binary %s: %w", cfg.Path, err)
}

// Provider is one provider instance: a distributor account served by a
// plugin.
type Provider struct {
	Plugin            string            `json:"plugin"`
	Settings          map[string]string `json:"settings,omitempty"`
	Defaults          Defaults          `json:"defaults"`
	Timeout           Duration          `json:"timeout,omitempty"`
	Rate              Rate              `json:"rate"`
	Breaker           Breaker           `json:"breaker"`
	SendPatronID      bool              `json:"send_patron_id,omitempty"`
	AllowInsecureHTTP bool              `json:"allow_insecure_http,omitempty"`
}

// Defaults fill a checkout's format and days when the request leaves them out.
type Defaults struct {
	Format string `json:"format,omitempty"`
	Days   int    `json:"days,omitempty"`
}

// Rate is an instance's token bucket (golang.org/x/time/rate).
type Rate struct {
	PerSecond float64  `json:"per_second,omitempty"`
	Burst     int      `json:"burst,omitempty"`
	MaxWait   Duration `json:"max_wait,omitempty"`
}

// Breaker is an instance's circuit breaker (sony/gobreaker v2).
type Breaker struct {
	ConsecutiveFailures uint32   `json:"consecutive_failures,omitempty"`
	OpenFor             Duration `json:"open_for,omitempty"`
	HalfOpenRequests    uint32   `json:"half_open_requests,omitempty"`
}

// The defaults of config.md.
const (
	DefaultTimeout             = 10 * time.Second
	DefaultRatePerSecond       = 10
	DefaultBurst               = 20
	DefaultMaxWait             = 2 * time.Second
	DefaultConsecutiveFailures = 5
	DefaultOpenFor             = 30 * time.Second
	DefaultHalfOpenRequests    = 1
)

// WithDefaults fills the zero fields of p with the defaults.
func (p Provider) WithDefaults() Provider {
	if p.Timeout <= 0 {
		p.Timeout = Duration(DefaultTimeout)
	}
	if p.Rate.PerSecond <= 0 {
		p.Rate.PerSecond = DefaultRatePerSecond
	}
	if p.Rate.Burst <= 0 {
		p.Rate.Burst = DefaultBurst
	}
	if p.Rate.MaxWait <= 0 {
		p.Rate.MaxWait = Duration(DefaultMaxWait)
	}
	if p.Breaker.ConsecutiveFailures == 0 {
		p.Breaker.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if p.Breaker.OpenFor <= 0 {
		p.Breaker.OpenFor = Duration(DefaultOpenFor)
	}
	if p.Breaker.HalfOpenRequests == 0 {
		p.Breaker.HalfOpenRequests = DefaultHalfOpenRequests
	}
	return p
}

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"10s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Webhook is one endpoint that the event log is pushed to
// (config.md "webhooks", api.md §8).
type Webhook struct {
	// Name is how metrics, logs and the admin view name the endpoint:
	// [a-z0-9-]{1,64}, unique; empty: "webhook-N", N its 1-based position.
	Name string `json:"name,omitempty"`
	// URL receives a POST per event: https; http only on the loopback
	// (127.0.0.0/8, ::1, localhost: a receiver on the same machine) or with
	// AllowInsecureHTTP.
	URL string `json:"url"`
	// Secret is the Standard Webhooks signing secret: "whsec_" and the
	// base64 of 24 to 64 random bytes.
	Secret string `json:"secret"`
	// Events filters by event type: exact types, or prefixes ending in "*"
	// ("loan.*", "*"). Absent: every event.
	Events []string `json:"events,omitempty"`
	// AllowInsecureHTTP permits an http:// URL on another host (development
	// only: the events carry patron ids).
	AllowInsecureHTTP bool `json:"allow_insecure_http,omitempty"`
	// Concurrency is how many deliveries may be in flight at once, each
	// loan's events still in log order; 0: 8. 1 sends the whole log in
	// order, one event at a time.
	Concurrency int `json:"concurrency,omitempty"`
}
