package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	manualSweep   bool           // tests run the sweeper's passes themselves
	scrapeTimeout time.Duration  // tests shorten the /metrics timeout (0: scrapeTimeout)
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
		c.Plugins[name] = p.Resolve(dir)
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
