package host_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// A 32-byte key: "whsec_" and its base64.
var testWebhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func webhooksConfig(entries string) []byte {
	return []byte(`{"secret": "s", "webhooks": [` + entries + `]}`)
}

func TestParseConfigWebhooks(t *testing.T) {
	lookup := func(k string) (string, bool) { return testWebhookSecret, k == "LG_TEST_WEBHOOK_SECRET" }
	c, err := host.ParseConfig(webhooksConfig(
		`{"url": "https://ils.example/hooks/lendgate", "secret": "env:LG_TEST_WEBHOOK_SECRET", "events": ["loan.*"]},
		 {"url": "http://127.0.0.1:9000/hook", "secret": "`+testWebhookSecret+`", "allow_insecure_http": true}`), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Webhooks) != 2 {
		t.Fatalf("webhooks %+v", c.Webhooks)
	}
	w := c.Webhooks[0]
	if w.URL != "https://ils.example/hooks/lendgate" || w.Secret != testWebhookSecret || !slices.Equal(w.Events, []string{"loan.*"}) {
		t.Errorf("first webhook %+v", w)
	}
	if w := c.Webhooks[1]; w.Events != nil || !w.AllowInsecureHTTP {
		t.Errorf("second webhook %+v: events absent means all", w)
	}
	c, err = host.ParseConfig(webhooksConfig(
		`{"name": "ils-1", "url": "https://ils.example/a", "secret": "`+testWebhookSecret+`", "concurrency": 1},
		 {"url": "https://ils.example/b", "secret": "`+testWebhookSecret+`", "concurrency": 64}`), nil)
	if err != nil || c.Webhooks[0].Name != "ils-1" || c.Webhooks[0].Concurrency != 1 || c.Webhooks[1].Name != "" || c.Webhooks[1].Concurrency != 64 {
		t.Fatalf("names and concurrency: %+v, %v", c.Webhooks, err)
	}
}

func TestParseConfigWebhookErrors(t *testing.T) {
	const short = "whsec_c2hvcnQta2V5" // "short-key"
	entry := func(url, secret, rest string) string {
		return fmt.Sprintf(`{"url": %q, "secret": %q%s}`, url, secret, rest)
	}
	good := "https://ils.example/hook"
	tests := []struct {
		name, entries, want string
	}{
		{"unknown key", entry(good, testWebhookSecret, `, "secrets": 1`), `unknown key "secrets" at webhooks[0].secrets`},
		{"no whsec_ prefix", entry(good, "0123456789abcdef0123456789abcdef", ""), `webhooks[0].secret must have the form "whsec_<base64>"`},
		{"not base64", entry(good, "whsec_not base64!!", ""), "not base64"},
		{"key too short", entry(good, short, ""), "must hold 24 to 64 bytes"},
		{"http", entry("http://ils.example/hook", testWebhookSecret, ""), "webhooks[0].url must be https (plain http only on the loopback"},
		{"other scheme", entry("ftp://ils.example/hook", testWebhookSecret, ""), "webhooks[0].url must be an absolute https URL"},
		{"relative", entry("/hook", testWebhookSecret, ""), "webhooks[0].url must be an absolute https URL"},
		{"unknown type", entry(good, testWebhookSecret, `, "events": ["loan.reslved"]`), `webhooks[0].events[0]: "loan.reslved" matches no event type`},
		{"star inside", entry(good, testWebhookSecret, `, "events": ["loan.*d"]`), "* is allowed only at the end"},
		{"empty events", entry(good, testWebhookSecret, `, "events": []`), "webhooks[0].events is empty"},
		{"same endpoint twice", entry(good, testWebhookSecret, "") + "," + entry(good+"?token=2", testWebhookSecret, ""), "webhooks[1].url: webhooks[0] has the same URL"},
		{"name with capitals", entry(good, testWebhookSecret, `, "name": "ILS"`), `webhooks[0].name "ILS" must be 1 to 64 characters of a-z, 0-9 and -`},
		{"name too long", entry(good, testWebhookSecret, `, "name": "`+strings.Repeat("a", 65)+`"`), "webhooks[0].name"},
		{"name twice", entry(good, testWebhookSecret, `, "name": "ils"`) + "," + entry(good+"2", testWebhookSecret, `, "name": "ils"`), "webhooks[1].name: webhooks[0] is named ils too"},
		{"name of another's default", entry(good, testWebhookSecret, `, "name": "webhook-2"`) + "," + entry(good+"2", testWebhookSecret, ""), "webhooks[1].name: webhooks[0] is named webhook-2 too"},
		{"concurrency negative", entry(good, testWebhookSecret, `, "concurrency": -1`), "webhooks[0].concurrency must be between 1 and 64"},
		{"concurrency too high", entry(good, testWebhookSecret, `, "concurrency": 65`), "webhooks[0].concurrency must be between 1 and 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := host.ParseConfig(webhooksConfig(tt.entries), func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			for _, secret := range []string{testWebhookSecret, short, "0123456789abcdef"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) {
					t.Errorf("the error shows the secret: %v", err)
				}
			}
		})
	}
}

// Go embedders get the same checks from New.
func TestNewChecksWebhooks(t *testing.T) {
	cfg := host.Config{Secret: testSecret, StoreImpl: memory.New(),
		Webhooks: []host.WebhookConfig{{URL: "http://ils.example/hook", Secret: testWebhookSecret}}}
	if _, err := host.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "webhooks[0].url must be https") {
		t.Fatalf("New: %v, want the http URL refused", err)
	}
}

// The production backoff: the first retry within 2 s, each delay doubling
// (jitter in its upper half), capped at 1 h.
func TestWebhookBackoff(t *testing.T) {
	tests := []struct {
		attempts int
		lo, hi   float64 // seconds
	}{
		{1, 1, 2}, {2, 2, 4}, {3, 4, 8}, {12, 1800, 3600}, {40, 1800, 3600}, {1 << 20, 1800, 3600},
	}
	for _, tt := range tests {
		for range 50 {
			if d := host.WebhookDelay(tt.attempts).Seconds(); d < tt.lo || d > tt.hi {
				t.Fatalf("delay after %d failures: %.3fs, want %v–%v s", tt.attempts, d, tt.lo, tt.hi)
			}
		}
	}
}

// plainStore is a Store without the webhook journal.
type plainStore struct{ journal.Store }

// A store that cannot journal deliveries cannot have webhooks.
func TestNewNeedsAWebhookJournal(t *testing.T) {
	cfg := host.Config{Secret: testSecret, StoreImpl: plainStore{memory.New()},
		Webhooks: []host.WebhookConfig{{URL: "https://ils.example/hook", Secret: testWebhookSecret}}}
	if _, err := host.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "webhooks need a store that journals their deliveries") {
		t.Fatalf("New: %v, want the store refused", err)
	}
}

// A receiver on the same machine may be plain http without the flag (no
// network is crossed); any other host needs https or allow_insecure_http.
func TestWebhookHTTPOnTheLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:9000/hook", "http://localhost:9000/hook", "http://[::1]:9000/hook", "http://127.0.0.2/hook"} {
		if _, err := host.ParseConfig(webhooksConfig(`{"url": "`+u+`", "secret": "`+testWebhookSecret+`"}`), nil); err != nil {
			t.Errorf("%s: %v, want accepted", u, err)
		}
	}
	for _, u := range []string{"http://ils.example/hook", "http://10.0.0.1/hook", "http://127.0.0.1.example/hook"} {
		if _, err := host.ParseConfig(webhooksConfig(`{"url": "`+u+`", "secret": "`+testWebhookSecret+`"}`), nil); err == nil {
			t.Errorf("%s accepted without allow_insecure_http", u)
		}
	}
}
