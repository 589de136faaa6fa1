//go:build linux

package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/apitest"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/internal/testpatron"
	"github.com/lendgate/lendgate/internal/testserver"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

func TestMain(m *testing.M) {
	code := apitest.Report(m.Run())
	testbin.Cleanup()
	testserver.Cleanup()
	os.Exit(code)
}

const (
	testAPIKey = "server-test-api-key-7f3a"
	// testSecret reaches the server through the environment (secretEnv), so
	// the config file carries "env:" as config.md allows.
	testSecret = "server-test-secret-Q9zx-0123456789abcdef"
	secretEnv  = "LENDGATE_TEST_SECRET"

	serverPkg = testbin.Server
	cbPkg     = testbin.CB

	cbPassword = "cb-account-pw-51Lq"
)

// pseudonym is the patron pseudonym host/doc.go documents, computed here
// independently, so that a CB order's UserId can be traced back to the ILS
// patron (and so to the request) that caused it.
func pseudonym(instance, patron string) string { return pseudonymUnder(testSecret, instance, patron) }

// pseudonymUnder is the pseudonym of patron at instance under secret.
func pseudonymUnder(secret, instance, patron string) string {
	return testpatron.Pseudonym(secret, instance, patron)
}

// sim is a CB simulator served on loopback by the test process.
type sim struct {
	*cbsim.Sim
	url string
}

// startSim serves a new cbsim, through wrap when it is not nil.
func startSim(t testing.TB, wrap func(http.Handler) http.Handler) *sim {
	t.Helper()
	s := cbsim.New(cbsim.WithCredentials(cbsim.DefaultUsername, cbPassword))
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &sim{Sim: s, url: srv.URL}
}

// answerAfterCommit makes the simulator place the order at once and hold
// the answer back for delay: a distributor that has committed when its
// answer is lost. A host killed in that window has lent without knowing it.
func answerAfterCommit(delay time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			holdAnswer(w, r, next, delay)
		})
	}
}

// holdAnswer lets next act on r at once and holds its answer back for delay,
// or drops it when the caller gives up first (what next did stays done).
func holdAnswer(w http.ResponseWriter, r *http.Request, next http.Handler, delay time.Duration) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// cbInstance is a provider instance of the cb plugin in front of s.
func cbInstance(s *sim) host.ProviderConfig { return advCBInstance(s.url) }

// baseConfig is a server config with the cb plugin (pinned) and no
// instances yet.
func baseConfig(t testing.TB, store host.StoreConfig) host.Config {
	t.Helper()
	bin := testbin.Build(t, cbPkg, "")
	return host.Config{
		APIKeys:   []string{testAPIKey},
		Secret:    "env:" + secretEnv,
		Log:       host.LogConfig{Level: "info", Format: "json"},
		Store:     store,
		Plugins:   map[string]host.PluginConfig{"cb": {Path: bin, SHA256: testbin.SHA256(t, bin)}},
		Providers: map[string]host.ProviderConfig{},
	}
}

func boltStore(t testing.TB) host.StoreConfig {
	return host.StoreConfig{Driver: "bolt", DSN: filepath.Join(t.TempDir(), "lendgate.db")}
}

func postgresStore(t testing.TB) host.StoreConfig {
	return host.StoreConfig{Driver: "postgres", DSN: testserver.SharedPostgres(t)}
}

// writeConfig writes cfg as the JSON file host.LoadConfig reads, and checks
// that it reads back.
func writeConfig(t testing.TB, cfg host.Config) string {
	t.Helper()
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.ParseConfig(b, func(k string) (string, bool) {
		return testSecret, k == secretEnv
	}); err != nil {
		t.Fatalf("the test's config does not load: %v\n%s", err, b)
	}
	return writeConfigFile(t, b)
}

// writeConfigFile writes b as a config file in a directory of t's and
// returns its path.
func writeConfigFile(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lendgate.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is one examples/server process.
type server struct {
	t       testing.TB
	name    string
	url     string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

// startServer runs examples/server on config at a free loopback port and
// waits until /readyz answers 200.
func startServer(t testing.TB, name, config string) *server {
	t.Helper()
	s := spawn(t, name, config, freeAddr(t), secretEnv+"="+testSecret)
	s.waitReady()
	return s
}

// spawn starts examples/server on config at addr with env added to the
// test's environment, its stdout and stderr captured in one log file, and
// returns at once. The process is stopped when t ends; it also dies with
// the test binary (parent-death signal).
func spawn(t testing.TB, name, config, addr string, env ...string) *server {
	t.Helper()
	return spawnArgs(t, name, config, addr, nil, env...)
}

// spawnArgs is spawn with args added to the server's command line.
func spawnArgs(t testing.TB, name, config, addr string, args []string, env ...string) *server {
	t.Helper()
	bin := testbin.Build(t, serverPkg, "")
	s := &server{t: t, name: name, url: "http://" + addr, exited: make(chan struct{}),
		logPath: filepath.Join(t.TempDir(), name+".log")}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, append([]string{"-config", config, "-listen", addr, "-drain", "2s"}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s (pid %d) log, last lines but calls:\n%s", name, s.cmd.Process.Pid, s.logTail(20))
		}
	})
	return s
}

func (s *server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.exited:
			s.t.Fatalf("%s exited at start: %v\n%s", s.name, s.cmd.ProcessState, s.logTail(40))
		default:
		}
		if a := s.do(http.MethodGet, "/readyz", nil, ""); a.err == nil && a.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s not ready within 20s\n%s", s.name, s.logTail(40))
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// kill9 kills the server with SIGKILL and waits until it is gone.
func (s *server) kill9() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill -9 %s: %v", s.name, err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("%s still running 10s after SIGKILL", s.name)
	}
}

// stop ends the server if it still runs: SIGTERM (drain), then SIGKILL.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// logTail returns the server's last lines of output, leaving out the
// one-line-per-call info logs, which say little when a test fails.
func (s *server) logTail(lines int) string {
	b, _ := os.ReadFile(s.logPath)
	var kept []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.Contains(l, `"@level":"info","@message":"call"`) {
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) > lines {
		kept = kept[len(kept)-lines:]
	}
	return strings.Join(kept, "\n")
}

// answer is what a client got: a status and body, or an error when the
// answer was lost.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return "no answer (" + a.err.Error() + ")"
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}

// code is the problem code of an error answer ("" otherwise).
func (a answer) code() string {
	var p host.Problem
	if a.err != nil || a.status < 400 || json.Unmarshal(a.body, &p) != nil {
		return ""
	}
	return p.Code
}

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: apitest.Transport(apitest.Unattended, &http.Transport{MaxIdleConnsPerHost: 64}),
}

// do sends one API request; body is JSON (or nil), key an Idempotency-Key.
func (s *server) do(method, path string, body []byte, key string) answer {
	h := http.Header{"Authorization": {"Bearer " + testAPIKey}}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return s.send(client, method, path, h, body)
}

// send sends a request with header and body (nil: none) through c, bounded
// by 30 s, and reads at most 64 MiB of the answer.
func (s *server) send(c *http.Client, method, path string, header http.Header, body []byte) answer {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		return answer{err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return sendReq(c, req)
}

// sendReq sends req through c and reads at most 64 MiB of the answer.
func sendReq(c *http.Client, req *http.Request) answer {
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return answer{err: err}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// getJSON GETs path and decodes a 200 answer into v.
func (s *server) getJSON(path string, v any) {
	s.t.Helper()
	a := s.do(http.MethodGet, path, nil, "")
	if a.err != nil || a.status != http.StatusOK {
		s.t.Fatalf("%s GET %s: %v", s.name, path, a)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		s.t.Fatalf("%s GET %s: decoding %s: %v", s.name, path, a.body, err)
	}
}

func (s *server) provider(name string) host.Provider {
	s.t.Helper()
	var p host.Provider
	s.getJSON("/v1/providers/"+name, &p)
	return p
}

// events reads the whole event log, page by page.
func (s *server) events() []host.Event {
	s.t.Helper()
	var all []host.Event
	after := ""
	for range 1000 {
		var page host.EventPage
		s.getJSON("/v1/events?limit=1000&after="+after, &page)
		all = append(all, page.Events...)
		if len(page.Events) == 0 || page.Next == after {
			return all
		}
		after = page.Next
	}
	s.t.Fatalf("%s: event log does not end after 1000 pages", s.name)
	return nil
}

func (s *server) loansByStatus(provider, status string) []host.Loan {
	s.t.Helper()
	var out struct {
		Loans []host.Loan `json:"loans"`
	}
	s.getJSON("/v1/providers/"+provider+"/loans?status="+status, &out)
	return out.Loans
}

// checkoutBody is a checkout request's JSON.
func checkoutBody(item, patron string) []byte {
	b, _ := json.Marshal(host.CheckoutRequest{Item: item, Patron: patron,
		Options: map[string]string{"reading_method": "D", "protection": "03"}})
	return b
}

// processGone reports whether process pid has ended (a zombie has: it runs
// nothing and only waits to be reaped by whoever adopted it).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	st := s[i+2]
	return st == 'Z' || st == 'X'
}

// waitUntil polls cond every 10 ms until it holds or the bound passes.
func waitUntil(bound time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(bound)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

// counter counts strings, safe for concurrent use.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.m)
}
