package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/journal"
)

// Config is everything a Host needs. Go embedders fill it directly;
// LoadConfig reads its JSON form (config.md). Zero values take the defaults
// of config.md.
type Config struct {
	// Listen is used by examples/server only.
	Listen string `json:"listen,omitempty"`
	// PublicURL is how distributors and browsers reach this host (notify_url
	// callbacks and redirect links are built on it), including any prefix
	// the API is mounted under.
	PublicURL string   `json:"public_url,omitempty"`
	APIKeys   []string `json:"api_keys,omitempty"`
	AdminKeys []string `json:"admin_keys,omitempty"`
	// Secret keys the HMACs: redirect signatures, notification tokens,
	// patron pseudonyms. Required.
	Secret    string                    `json:"secret,omitempty"`
	Log       LogConfig                 `json:"log"`
	Store     StoreConfig               `json:"store"`
	Plugins   map[string]PluginConfig   `json:"plugins,omitempty"`
	Providers map[string]ProviderConfig `json:"providers,omitempty"`
	Cluster   ClusterConfig             `json:"cluster"`
	// Webhooks push every event of the log to these endpoints (webhook.go).
	Webhooks []WebhookConfig `json:"webhooks,omitempty"`

	// Logger receives the host's logs (default: hclog to stderr at Log.Level).
	Logger hclog.Logger `json:"-"`
	// Authenticator replaces API-key authentication (e.g. an ILS's session
	// middleware).
	Authenticator Authenticator `json:"-"`
	// OnEvent is called after each loan event is stored.
	OnEvent func(Event) `json:"-"`
	// StoreImpl, when set, is used instead of opening Store.
	StoreImpl journal.Store `json:"-"`
	// SweepInterval is how often the journal's housekeeping runs: expiring
	// loans, marking lost checkouts unknown, purging old keys (default 30s).
	SweepInterval time.Duration `json:"-"`

	webhookTiming *webhookTiming // tests shorten the webhook delays
}

// LogConfig sets the host's log level ("trace" … "error") and format
// ("json" or "text").
type LogConfig struct {
	Level  string `json:"level,omitempty"`
	Format string `json:"format,omitempty"`
}

// StoreConfig chooses the journal's driver ("memory" and "bolt") and its DSN
// (for bolt, the file path).
type StoreConfig struct {
	Driver string `json:"driver,omitempty"`
	DSN    string `json:"dsn,omitempty"`
	// IdempotencyTTL is how long Idempotency-Keys are kept (default 24h).
	IdempotencyTTL Duration `json:"idempotency_ttl,omitempty"`
	// EventRetention is how long events are kept (default 90 days, never
	// less than IdempotencyTTL); see retention.go.
	EventRetention Duration `json:"event_retention,omitempty"`
}

// ClusterConfig shares limits and breaker state across nodes (Redis address).
type ClusterConfig struct {
	Redis string `json:"redis,omitempty"`
}

// PluginConfig names a plugin binary and pins its SHA-256 (hex). A plugin
// without a pin must say so with Unpinned (development only: warned at
// every start, shown as "pinned": false).
type PluginConfig struct {
	Path     string `json:"path"`
	SHA256   string `json:"sha256,omitempty"`
	Unpinned bool   `json:"unpinned,omitempty"`

	// written is Path as the config file gave it, when LoadConfig resolved
	// it against the file's directory (for the error about a missing
	// binary).
	written string
}

// validate checks plugin name's entry: a path, and a pin of 64 hex digits
// unless the plugin is declared unpinned.
func (p PluginConfig) validate(name string) error {
	if p.Path == "" {
		return fmt.Errorf("config: plugins.%s.path is required", name)
	}
	if p.SHA256 == "" {
		if !p.Unpinned {
			return fmt.Errorf("config: plugins.%s.sha256 is required (the SHA-256 of the binary; \"unpinned\": true only for development)", name)
		}
		return nil
	}
	if !validPin(p.SHA256) {
		return fmt.Errorf("config: plugins.%s.sha256 must be 64 hex digits", name)
	}
	return nil
}

// validPin reports whether s is a SHA-256 in hex (either case).
func validPin(s string) bool {
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

// ProviderConfig is one provider instance: a distributor account served by a
// plugin.
type ProviderConfig struct {
	Plugin            string            `json:"plugin"`
	Settings          map[string]string `json:"settings,omitempty"`
	Defaults          Defaults          `json:"defaults"`
	Timeout           Duration          `json:"timeout,omitempty"`
	Rate              RateConfig        `json:"rate"`
	Breaker           BreakerConfig     `json:"breaker"`
	SendPatronID      bool              `json:"send_patron_id,omitempty"`
	AllowInsecureHTTP bool              `json:"allow_insecure_http,omitempty"`
}

// Defaults fill a checkout's format and days when the request leaves them out.
type Defaults struct {
	Format string `json:"format,omitempty"`
	Days   int    `json:"days,omitempty"`
}

// RateConfig is an instance's token bucket (golang.org/x/time/rate).
type RateConfig struct {
	PerSecond float64  `json:"per_second,omitempty"`
	Burst     int      `json:"burst,omitempty"`
	MaxWait   Duration `json:"max_wait,omitempty"`
}

// BreakerConfig is an instance's circuit breaker (sony/gobreaker v2).
type BreakerConfig struct {
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

func (p ProviderConfig) withDefaults() ProviderConfig {
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

// LoadConfig reads a JSON config file strictly: an unknown key is an error
// naming the key and its path, and every string "env:NAME" is replaced by the
// environment variable NAME (an unset variable is an error). Relative paths
// (plugin binaries, the bolt file) are resolved against the directory of the
// config file, not the working directory, so that a server started from
// anywhere (a systemd unit, a deployment pipeline) finds the same files.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	c, err := ParseConfig(b, os.LookupEnv)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	resolvePaths(&c, dir)
	return c, nil
}

// resolvePaths makes c's relative file paths relative to dir: every plugin
// binary, and the bolt file (its default "./lendgate.db" too). A postgres
// DSN is not a path.
func resolvePaths(c *Config, dir string) {
	for name, p := range c.Plugins {
		if p.Path != "" && !filepath.IsAbs(p.Path) {
			p.written = p.Path
			p.Path = filepath.Join(dir, p.Path)
			c.Plugins[name] = p
		}
	}
	if c.Store.Driver == "" || c.Store.Driver == "bolt" {
		if c.Store.DSN == "" {
			c.Store.DSN = "lendgate.db"
		}
		if !filepath.IsAbs(c.Store.DSN) {
			c.Store.DSN = filepath.Join(dir, c.Store.DSN)
		}
	}
}

// binaryError explains a plugin binary that cannot be read: the path tried
// and, when the config gave it relative, where it was resolved from.
func binaryError(cfg PluginConfig, err error) error {
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

// ParseConfig is LoadConfig on bytes, with lookup resolving "env:" values.
func ParseConfig(b []byte, lookup func(string) (string, bool)) (Config, error) {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, ok := raw.(map[string]any); !ok {
		return Config{}, fmt.Errorf("the config must be a JSON object")
	}
	if err := checkKeys(raw, reflect.TypeOf(Config{}), ""); err != nil {
		return Config{}, err
	}
	raw, err := expandEnv(raw, "", lookup)
	if err != nil {
		return Config{}, err
	}
	b, err = json.Marshal(raw)
	if err != nil {
		return Config{}, err
	}
	var c Config
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	if err := validateWebhooks(c.Webhooks); err != nil {
		return Config{}, err
	}
	return c, nil
}

// checkKeys walks the decoded JSON against t's json tags so that an unknown
// key is reported with its full path (encoding/json names only the key).
func checkKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if arr, ok := v.([]any); ok && t.Kind() == reflect.Slice {
		for i, e := range arr {
			if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil // type mismatches are reported by the strict decode
	}
	switch t.Kind() {
	case reflect.Map:
		keys := sortedKeys(obj)
		for _, k := range keys {
			if err := checkKeys(obj[k], t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown key %q at %s", k, join(path, k))
			}
			if err := checkKeys(obj[k], ft, join(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandEnv replaces every "env:NAME" string in v.
func expandEnv(v any, path string, lookup func(string) (string, bool)) (any, error) {
	switch x := v.(type) {
	case string:
		name, ok := strings.CutPrefix(x, "env:")
		if !ok {
			return x, nil
		}
		val, found := lookup(name)
		if !found {
			return nil, fmt.Errorf("%s: environment variable %s is not set", path, name)
		}
		return val, nil
	case map[string]any:
		for k, e := range x {
			nv, err := expandEnv(e, join(path, k), lookup)
			if err != nil {
				return nil, err
			}
			x[k] = nv
		}
	case []any:
		for i, e := range x {
			nv, err := expandEnv(e, fmt.Sprintf("%s[%d]", path, i), lookup)
			if err != nil {
				return nil, err
			}
			x[i] = nv
		}
	}
	return v, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// MinSecretBytes is the shortest Config.Secret the host accepts: the size of
// an HMAC-SHA256 key (api.md §7). A shorter secret can be guessed offline
// from one redirect signature.
const MinSecretBytes = 32

// checkSecret validates Config.Secret; the error never shows the secret.
func checkSecret(secret string) error {
	switch {
	case secret == "":
		return errors.New("config: secret is required (it keys redirect signatures, notification tokens and patron pseudonyms)")
	case len(secret) < MinSecretBytes:
		return fmt.Errorf("config: secret has %d bytes; it needs at least %d (e.g. 64 hex characters from a random source)", len(secret), MinSecretBytes)
	}
	return nil
}
