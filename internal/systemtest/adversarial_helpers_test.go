//go:build linux

package systemtest

// Helpers of the adversarial suite (adversarial_*_test.go): a server config
// with the three real plugins, written as raw JSON so that a test can use
// keys the host's Go types may not have yet ("unpinned"), a server started
// on a known address (its public_url) with a secret of the length api.md §7
// asks for, fronts that make a simulator misbehave at the HTTP level, and
// checks of problem answers.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

const (
	// advSecret is 48 bytes: api.md §7 wants at least 32.
	advSecret    = "adversarial-suite-secret-0123456789abcdefghijkl"
	advSecretEnv = "LENDGATE_ADV_SECRET"
	advAdminKey  = "adversarial-admin-key-5c1e"

	demarquePkg = testbin.Demarque
	ehubPkg     = testbin.EHub

	dmPassword = "dm-account-pw-83Kd"
	ehAPIKey   = "ehub-account-key-2Wq7"
)

// advPseudonym is the patron pseudonym host/doc.go documents, under
// advSecret.
func advPseudonym(instance, patron string) string { return pseudonymUnder(advSecret, instance, patron) }

// front sits between the host's plugins and a simulator and can be told,
// while a test runs, to answer differently; with nothing set it passes
// every request on.
type front struct {
	next http.Handler
	mu   sync.Mutex
	fn   func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func (f *front) set(fn func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fn = fn
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fn := f.fn
	f.mu.Unlock()
	if fn == nil {
		f.next.ServeHTTP(w, r)
		return
	}
	fn(w, r, f.next)
}

// serve serves h on loopback for the test's lifetime and returns its URL.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// holdFirstAnswer lets the simulator act on the first request at once and
// holds that request's answer back for delay (or until the caller gives
// up): a distributor that committed and whose answer is lost. Later
// requests pass straight through.
func holdFirstAnswer(delay time.Duration) func(http.ResponseWriter, *http.Request, http.Handler) {
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		first := false
		once.Do(func() { first = true })
		if !first {
			next.ServeHTTP(w, r)
			return
		}
		holdAnswer(w, r, next, delay)
	}
}

// answer429 answers every request 429 with this Retry-After header value,
// verbatim, and counts the requests.
func answer429(retryAfter string, n *counter) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		n.add("429")
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", retryAfter)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"too_many_requests","code":"TOO_MANY_REQUESTS","message":"slow down"}`))
	}
}

// Instances of the three plugins in front of simulators served at url.

func advCBInstance(url string) host.ProviderConfig {
	return instance("cb", "epub", map[string]string{"base_url": cbsim.BaseURL(url),
		"username": cbsim.DefaultUsername, "password": cbPassword})
}

func advDMInstance(url string) host.ProviderConfig {
	return instance("demarque", "epub", map[string]string{"base_url": url,
		"organisation_id": demarquesim.DefaultOrganisation, "username": demarquesim.DefaultUsername, "password": dmPassword})
}

func advEHInstance(url string) host.ProviderConfig {
	return instance("ehub", ehubsim.FormatEbook, map[string]string{"base_url": url, "api_key": ehAPIKey})
}

// instance is an instance of plugin with settings lending format for 21
// days, with no rate limit that a test would reach, on plain HTTP.
func instance(plugin, format string, settings map[string]string) host.ProviderConfig {
	return host.ProviderConfig{
		Plugin:            plugin,
		Settings:          settings,
		Defaults:          host.Defaults{Format: format, Days: 21},
		Rate:              host.RateConfig{PerSecond: 10000, Burst: 10000},
		AllowInsecureHTTP: true,
	}
}

// The simulators, each with the credentials its instance above uses.

func newCBSim(opts ...cbsim.Option) *cbsim.Sim {
	return cbsim.New(append([]cbsim.Option{cbsim.WithCredentials(cbsim.DefaultUsername, cbPassword)}, opts...)...)
}

func newDMSim(opts ...demarquesim.Option) *demarquesim.Sim {
	return demarquesim.New(append([]demarquesim.Option{demarquesim.WithCredentials(demarquesim.DefaultUsername, dmPassword)}, opts...)...)
}

func newEHSim(opts ...ehubsim.Option) *ehubsim.Sim {
	return ehubsim.New(append([]ehubsim.Option{ehubsim.WithAPIKey(ehAPIKey)}, opts...)...)
}

// pinned is a plugin built from pkg and pinned to its hash.
func pinned(t testing.TB, pkg string) host.PluginConfig {
	bin := testbin.Build(t, pkg, "")
	return host.PluginConfig{Path: bin, SHA256: testbin.SHA256(t, bin)}
}

// pluginPkgs are the plugins by their config name.
var pluginPkgs = map[string]string{"cb": cbPkg, "demarque": demarquePkg, "ehub": ehubPkg}

// advConfig is a server config for a server at addr: the named plugins
// ("cb", "demarque", "ehub"), pinned, a bolt journal, the API and admin
// keys, advSecret through the environment, and no instances yet.
func advConfig(t testing.TB, addr string, plugins ...string) host.Config {
	t.Helper()
	ps := map[string]host.PluginConfig{}
	for _, p := range plugins {
		ps[p] = pinned(t, pluginPkgs[p])
	}
	return host.Config{
		PublicURL: "http://" + addr,
		APIKeys:   []string{testAPIKey},
		AdminKeys: []string{advAdminKey},
		Secret:    "env:" + advSecretEnv,
		Log:       host.LogConfig{Level: "info", Format: "json"},
		Store:     host.StoreConfig{Driver: "bolt", DSN: filepath.Join(t.TempDir(), "lendgate.db")},
		Plugins:   ps,
		Providers: map[string]host.ProviderConfig{},
	}
}

// writeRawConfig writes cfg as a config file after patch has edited its
// JSON form (nil: none). It does not check that the host reads it back: the
// server's start is the judge, and a test may write what config.md asks
// for before the host's Go types have it.
func writeRawConfig(t testing.TB, cfg host.Config, patch func(m map[string]any)) string {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if patch != nil {
		patch(m)
	}
	b, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return writeConfigFile(t, b)
}

// pluginEntry is cfg JSON's plugins[name] object, for patches.
func pluginEntry(m map[string]any, name string) map[string]any {
	return m["plugins"].(map[string]any)[name].(map[string]any)
}

// launch starts examples/server on config at addr with env added to the
// test's environment (advSecret unless env sets it), and returns at once.
func launch(t testing.TB, name, config, addr string, env ...string) *server {
	t.Helper()
	return spawn(t, name, config, addr, append([]string{advSecretEnv + "=" + advSecret}, env...)...)
}

// startAdv launches a server and waits until /readyz answers 200.
func startAdv(t testing.TB, name string, cfg host.Config, patch func(map[string]any)) *server {
	t.Helper()
	addr := strings.TrimPrefix(cfg.PublicURL, "http://")
	s := launch(t, name, writeRawConfig(t, cfg, patch), addr)
	s.waitReady()
	return s
}

// readyWithin waits until /readyz answers 200, the process exits, or bound
// passes; it reports which ("ready", "exited", "not ready").
func (s *server) readyWithin(bound time.Duration) string {
	deadline := time.Now().Add(bound)
	for {
		select {
		case <-s.exited:
			return "exited"
		default:
		}
		if a := s.open(http.MethodGet, "/readyz", nil, nil); a.err == nil && a.status == http.StatusOK {
			return "ready"
		}
		if time.Now().After(deadline) {
			return "not ready"
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// exitCode waits (bounded) for the process to end and returns its exit
// code, or -1 when it still runs.
func (s *server) exitCode(bound time.Duration) int {
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(bound):
		return -1
	}
}

// output is everything the server wrote so far.
func (s *server) output() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// logSize is the length of the output so far, to read what comes after.
func (s *server) logSize() int64 {
	st, err := os.Stat(s.logPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

// logSince is the output written after offset off.
func (s *server) logSince(off int64) string {
	b, _ := os.ReadFile(s.logPath)
	if off > int64(len(b)) {
		return ""
	}
	return string(b[off:])
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// open sends a request without the API key unless header sets one, and
// never follows a redirect.
func (s *server) open(method, path string, header http.Header, body []byte) answer {
	return s.send(noRedirects, method, path, header, body)
}

// authed is open with the API key and a JSON content type.
func (s *server) authed(method, path string, body []byte, extra http.Header) answer {
	h := http.Header{"Authorization": {"Bearer " + testAPIKey}}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	for k, v := range extra {
		h[k] = v
	}
	return s.open(method, path, h, body)
}

// dmCheckout lends demarquesim.ISBNAvailable to patron through the
// instance "dm" in front of dmSim served at dmURL, and fails t unless the
// loan is made.
func (s *server) dmCheckout(t testing.TB, dmSim *demarquesim.Sim, dmURL, patron, name string) host.Loan {
	t.Helper()
	a := s.do(http.MethodPost, "/v1/providers/dm/loans", mustJSON(host.CheckoutRequest{Item: demarquesim.ISBNAvailable,
		Patron: patron, PatronName: name, Options: map[string]string{"loan_url": dmSim.LoanURL(dmURL, demarquesim.ISBNAvailable)}}), "")
	if a.status != http.StatusCreated {
		t.Fatalf("De Marque checkout: %v", a)
	}
	var l host.Loan
	mustUnmarshal(t, a.body, &l)
	return l
}

// problem is a problem answer with the members §3 and §7 give it.
type problem struct {
	host.Problem
	Loan string `json:"loan"`
}

func (a answer) problem() problem {
	var p problem
	json.Unmarshal(a.body, &p)
	return p
}

// knownCodes is api.md §3's table.
var knownCodes = map[string]bool{
	"invalid_request": true, "unauthorized": true, "forbidden": true, "provider_not_found": true,
	"loan_not_found": true, "item_not_found": true, "not_available": true, "already_on_loan": true,
	"duplicate_reference": true, "limit_reached": true, "patron_mismatch": true, "patron_rejected": true,
	"unsupported_combination": true, "idempotency_mismatch": true, "unsupported_operation": true,
	"rate_limited": true, "try_later": true, "circuit_open": true, "plugin_unavailable": true,
	"provider_credentials": true, "provider_error": true, "provider_timeout": true,
	"journal_unavailable": true, "outcome_unknown": true,
}

// problemErr says what is wrong with a as an error answer of api.md §3
// ("" when nothing): a problem+json body whose status matches the HTTP
// status and whose code is in the table.
func problemErr(a answer) string {
	if a.err != nil {
		return "no answer: " + a.err.Error()
	}
	if a.status < 400 {
		return fmt.Sprintf("status %d, not an error", a.status)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Sprintf("status %d with Content-Type %q, not application/problem+json: %.200q", a.status, ct, a.body)
	}
	var p problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		return fmt.Sprintf("status %d: problem body does not decode: %v", a.status, err)
	}
	if !knownCodes[p.Code] {
		return fmt.Sprintf("status %d: code %q is not in api.md §3", a.status, p.Code)
	}
	if p.Status != a.status {
		return fmt.Sprintf("problem status %d differs from HTTP status %d", p.Status, a.status)
	}
	return ""
}

// wantProblem fails t unless a is a valid problem with status and code.
func wantProblem(t testing.TB, what string, a answer, status int, code string) {
	t.Helper()
	if e := problemErr(a); e != "" {
		t.Errorf("%s: %s", what, e)
		return
	}
	if a.status != status || a.code() != code {
		t.Errorf("%s: %s, want %d %s", what, a, status, code)
	}
}

// metricsText is /metrics now.
func (s *server) metricsText() string {
	s.t.Helper()
	a := s.open(http.MethodGet, "/metrics", nil, nil)
	if a.err != nil || a.status != http.StatusOK {
		s.t.Fatalf("%s GET /metrics: %v", s.name, a)
	}
	return string(a.body)
}

// alive fails t unless the server still runs and answers /healthz.
func (s *server) alive(t testing.TB) {
	t.Helper()
	select {
	case <-s.exited:
		t.Fatalf("%s exited: %v", s.name, s.cmd.ProcessState)
	default:
	}
	if a := s.open(http.MethodGet, "/healthz", nil, nil); a.err != nil || a.status != http.StatusOK {
		t.Fatalf("%s /healthz after the junk: %v", s.name, a)
	}
}

// providerJSON is GET /v1/providers/{name} as a generic object, so that
// members the host's Go type may not have yet ("pinned") can be read.
func (s *server) providerJSON(name string) map[string]any {
	s.t.Helper()
	var m map[string]any
	s.getJSON("/v1/providers/"+name, &m)
	return m
}

// mustJSON marshals v.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %.300s: %v", b, err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
