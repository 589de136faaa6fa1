package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/internal/apitest"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/internal/testlog"
	"github.com/lendgate/lendgate/internal/testserver"
)

func TestMain(m *testing.M) { testbin.Main(m, testserver.Cleanup) }

const (
	testAPIKey   = "api-key-0123456789"
	testAdminKey = "admin-key-9876543210"
	testSecret   = "secret-for-tests-only-0123456789abcdef"
)

// env is a host on real plugin processes behind a real HTTP server.
type env struct {
	t    *testing.T
	h    *host.Host
	srv  *httptest.Server
	logs *testlog.Buffer
}

func fakePlugin(t testing.TB) string {
	return testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/fakeplugin", "")
}

// fakeConfig is a config with one fake plugin and two instances of it.
func fakeConfig(t testing.TB) host.Config {
	return host.Config{
		APIKeys:   []string{testAPIKey},
		AdminKeys: []string{testAdminKey},
		Secret:    testSecret,
		Plugins:   map[string]host.PluginConfig{"fake": pinned(t, fakePlugin(t))},
		Providers: map[string]host.ProviderConfig{
			"fake-a": {Plugin: "fake", Settings: map[string]string{"password": "pw-settings-secret"}, Defaults: host.Defaults{Format: "epub", Days: 14}},
			"fake-b": {Plugin: "fake"},
		},
		StoreImpl: memory.New(),
	}
}

// start runs a host on cfg with logs captured at trace level.
func start(t *testing.T, cfg host.Config) *env {
	t.Helper()
	e := &env{t: t, logs: &testlog.Buffer{}}
	var handler http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		h := handler
		mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	cfg.PublicURL = e.srv.URL
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: e.logs, JSONFormat: true})
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("host.New: %v", err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	e.h = h
	mu.Lock()
	handler = h.Handler()
	mu.Unlock()
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

// problem decodes a problem+json answer.
func (r response) problem(t testing.TB) host.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	var p host.Problem
	r.json(t, &p)
	return p
}

// do sends a request with the API key unless headers say otherwise.
func (e *env) do(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Transport: apitest.Transport(e.t, nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// expectProblem asserts an error answer's status and code.
func (e *env) expectProblem(r response, status int, code string) host.Problem {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	p := r.problem(e.t)
	if p.Code != code {
		e.t.Fatalf("code %q, want %q: %s", p.Code, code, r.body)
	}
	return p
}

func (e *env) eventCount() int {
	e.t.Helper()
	page, err := e.h.Events(context.Background(), "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(page.Events)
}
