package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testlog"
	"github.com/lendgate/lendgate/sdk"
)

// labelPattern finds the label pairs of a Prometheus text line.
var labelPattern = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// FuzzHTTP sends random requests (method, path, header lines, body, with or
// without the API key) to the API of a host with a fake plugin and a memory
// store. Invariants: the host never panics; every answer outside 2xx and
// 3xx is problem+json with a unified code and its status (save /readyz's
// own JSON); /metrics labels stay inside the closed sets of configured
// names, operations and codes; no log line grows beyond a few hundred
// bytes. The seed corpus is in testdata/fuzz/FuzzHTTP.
func FuzzHTTP(f *testing.F) {
	cfg := fakeConfig(f)
	for name, p := range cfg.Providers {
		p.Rate = host.RateConfig{PerSecond: 1e6, Burst: 1e6} // the fuzzer must not wait on the limiter
		cfg.Providers[name] = p
	}
	logs := &testlog.Buffer{}
	cfg.PublicURL = "http://lendgate.test"
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: logs, JSONFormat: true})
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { h.Close(context.Background()) })
	handler := h.Handler()

	f.Add("GET", "/v1/providers", "", []byte(nil), true)
	f.Add("POST", "/v1/providers/fake-a/loans", "Content-Type: application/json", []byte(`{"item":"9789084999813","patron":"p1"}`), true)
	f.Add("POST", "/v1/notifications/fake-a/ln_x.AAAA", "", []byte(`{"type":"return"}`), false)
	f.Add("GET", "/v1/providers/fake-a/loans/ln_x/content?format=epub&exp=99999999999&sig=AAAA", "", []byte(nil), false)

	allowed := map[string]map[string]bool{
		"provider": {"fake-a": true, "fake-b": true, "unknown": true},
		"plugin":   {"fake": true},
		"op": {"checkout": true, "fulfill": true, "renew": true, "return": true, "download": true,
			"access_check": true, "content": true, "notification": true},
	}
	f.Fuzz(func(t *testing.T, method, path, header string, body []byte, authed bool) {
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: lendgate.test\r\n%s\r\nContent-Length: %d\r\n\r\n%s", method, path, header, len(body), body)
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http refuses it before any handler
		}
		req.RemoteAddr = "192.0.2.1:1234"
		if authed {
			req.Header.Set("Authorization", "Bearer "+testAPIKey)
		}
		logsBefore := len(logs.String())
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		if rec.Code >= 400 && req.URL.Path != "/readyz" {
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("%s %q: status %d with Content-Type %q: %.300s", method, path, rec.Code, ct, rec.Body)
			}
			var p host.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("%s %q: problem does not decode: %v", method, path, err)
			}
			if !sdk.Code(p.Code).Known() || p.Status != rec.Code {
				t.Fatalf("%s %q: status %d, problem %+v", method, path, rec.Code, p)
			}
		}
		if n := longestLine(logs.String()[logsBefore:]); n > maxOutsiderLogLine {
			t.Fatalf("%s %q: a log line of %d bytes", method, path, n)
		}

		mrec := httptest.NewRecorder()
		handler.ServeHTTP(mrec, httptest.NewRequest("GET", "/metrics", nil))
		for _, line := range strings.Split(mrec.Body.String(), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			for _, m := range labelPattern.FindAllStringSubmatch(line, -1) {
				name, value := m[1], m[2]
				if name == "code" {
					if value != "ok" && !sdk.Code(value).Known() {
						t.Fatalf("after %s %q: code label %q", method, path, value)
					}
					continue
				}
				if set, ok := allowed[name]; ok && !set[value] {
					t.Fatalf("after %s %q: %s label %.100q", method, path, name, value)
				}
			}
		}
	})
}
