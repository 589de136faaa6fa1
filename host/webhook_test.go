package host_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal/bolt"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// admin reads GET /v1/admin/webhooks.
func (e *env) adminWebhooks() []host.WebhookStatus {
	e.t.Helper()
	r := e.do("GET", "/v1/admin/webhooks", nil, "Authorization", "Bearer "+testAdminKey)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /v1/admin/webhooks: status %d: %s", r.status, r.body)
	}
	var got struct {
		Webhooks []host.WebhookStatus `json:"webhooks"`
	}
	r.json(e.t, &got)
	return got.Webhooks
}

// metric returns the value of one series of /metrics ("" when absent).
func (e *env) metric(series string) string {
	e.t.Helper()
	r := e.do("GET", "/metrics", nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// lend checks out n items for distinct patrons at fake-a.
func lend(e *env, n int, patron string) []host.Loan {
	e.t.Helper()
	var out []host.Loan
	for i := range n {
		out = append(out, checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": fmt.Sprintf("%s-%d", patron, i)}))
	}
	return out
}

func TestWebhooksDeliverEveryEventInLogOrder(t *testing.T) {
	all, returns := newReceiver(t), newReceiver(t)
	cfg := fakeConfig(t)
	webhookConfig(&cfg, all, "/hooks/lendgate?token=url-token-not-for-logs")
	cfg.Webhooks[0].Concurrency = 1 // the whole log in order
	webhookConfig(&cfg, returns, "/hooks/returns", "loan.returned")
	cfg.Webhooks[1].Name = "returns"
	watch := useTiming(t, &cfg, testWebhookTiming)
	e := start(t, cfg)

	loans := lend(e, 4, "patron")
	if r := e.do("POST", "/v1/providers/fake-a/loans/"+loans[0].ID+"/renewal", map[string]any{"days": 7}); r.status != http.StatusOK {
		t.Fatalf("renewal: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v1/providers/fake-a/loans/"+loans[1].ID, nil); r.status != http.StatusOK {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	log := logEvents(t, e.h)
	if len(log) != 6 {
		t.Fatalf("%d events in the log, want 6", len(log))
	}
	checkDeliveriesInLogOrder(t, all.waitDelivered(len(log)), log)
	var returned []host.Event
	for _, ev := range log {
		if ev.Type == "loan.returned" {
			returned = append(returned, ev)
		}
	}
	checkDeliveries(t, returns.waitDelivered(1), returned)

	// The admin view, once the host journaled the last deliveries (the
	// journal keys an endpoint by its URL without query).
	watch.waitCursor(all.srv.URL+"/hooks/lendgate", log[5].Cursor)
	watch.waitCursor(returns.srv.URL+"/hooks/returns", returned[0].Cursor)
	allName, returnsName := "webhook-1", "returns"
	ws := e.adminWebhooks()
	if len(ws) != 2 {
		t.Fatalf("admin view: %d endpoints, want 2", len(ws))
	}
	if ws[0].Name != allName || !slices.Equal(ws[0].Events, []string{"*"}) || ws[0].Queued != 0 || ws[0].LastSuccess == nil ||
		ws[0].FailingSince != nil || ws[0].Cursor != log[5].Cursor || ws[0].Concurrency != 1 {
		t.Errorf("admin view of the first endpoint: %+v", ws[0])
	}
	if ws[1].Name != returnsName || !slices.Equal(ws[1].Events, []string{"loan.returned"}) || ws[1].Queued != 0 || ws[1].Concurrency != 8 {
		t.Errorf("admin view of the second endpoint: %+v", ws[1])
	}
	// An API key is not an admin key.
	e.expectProblem(e.do("GET", "/v1/admin/webhooks", nil), http.StatusForbidden, "forbidden")

	series := fmt.Sprintf(`lendgate_webhook_deliveries_total{endpoint=%q,outcome="delivered"}`, allName)
	if v := e.metric(series); v != "6" {
		t.Errorf("%s = %q, want 6", series, v)
	}
	if v := e.metric(fmt.Sprintf(`lendgate_webhook_queued{endpoint=%q}`, allName)); v != "0" {
		t.Errorf("queued gauge %q, want 0", v)
	}
	// Neither the URL (whose path or query may carry a token) nor the
	// secret shows in the logs, the admin view or /metrics.
	metrics := string(e.do("GET", "/metrics", nil).body)
	for _, leak := range []string{"url-token-not-for-logs", "/hooks/lendgate", "/hooks/returns", all.secret, strings.TrimPrefix(all.secret, "whsec_")} {
		if strings.Contains(e.logs.String(), leak) {
			t.Errorf("the logs show %q", leak)
		}
		if r := e.do("GET", "/v1/admin/webhooks", nil, "Authorization", "Bearer "+testAdminKey); strings.Contains(string(r.body), leak) {
			t.Errorf("the admin view shows %q", leak)
		}
		if strings.Contains(metrics, leak) {
			t.Errorf("/metrics shows %q", leak)
		}
	}
}

// A receiver that fails (500), redirects, times out and recovers gets
// every event, in order, each repeat after a failed attempt and with the
// same webhook-id; the admin view and the metrics show the failure while
// it lasts.
func TestWebhooksRetryFailuresAndTimeoutsUntilDelivered(t *testing.T) {
	r := newReceiver(t)
	var mode atomic.Value // "down", "redirect", "hang", "up"
	mode.Store("down")
	r.setAnswer(func(id string, n int) int {
		switch mode.Load() {
		case "down":
			return http.StatusInternalServerError
		case "redirect":
			return http.StatusTemporaryRedirect
		case "hang":
			return 0
		}
		return http.StatusOK
	})
	cfg := fakeConfig(t)
	webhookConfig(&cfg, r, "/hook")
	key, name := r.srv.URL+"/hook", "webhook-1"
	watch := useTiming(t, &cfg, testWebhookTiming)
	e := start(t, cfg)

	lend(e, 3, "patron")
	first := logEvents(t, e.h)[0].ID
	r.waitFor("three failed attempts", func(cs []hookCall) bool { return failedCalls(cs, first) >= 3 })
	watch.waitFor(key, "three failed attempts journaled", func(st host.WebhookState) bool { return st.Attempts >= 3 })
	ws := e.adminWebhooks()
	if ws[0].FailingSince == nil || ws[0].Attempts < 3 || ws[0].LastError != "status" || ws[0].LastStatus != 500 || ws[0].Queued != 3 || ws[0].Cursor != "" {
		t.Errorf("admin view while the receiver fails: %+v", ws[0])
	}
	if v := e.metric(fmt.Sprintf(`lendgate_webhook_queued{endpoint=%q}`, name)); v != "3" {
		t.Errorf("queued gauge %q, want 3", v)
	}

	// A redirect is a failure, and is not followed.
	mode.Store("redirect")
	r.waitFor("a redirect answered", func(cs []hookCall) bool {
		return slices.ContainsFunc(cs, func(c hookCall) bool { return c.status == http.StatusTemporaryRedirect })
	})
	// A receiver that does not answer within the timeout.
	mode.Store("hang")
	r.waitFor("an attempt timed out", func(cs []hookCall) bool {
		return slices.ContainsFunc(cs, func(c hookCall) bool { return c.status == 0 })
	})
	watch.waitFor(key, "the timeout journaled", func(st host.WebhookState) bool { return st.LastError == "timeout" })
	mode.Store("up")
	lend(e, 2, "later")
	log := logEvents(t, e.h)
	calls := r.waitDelivered(len(log))
	checkDeliveries(t, calls, log)
	for _, c := range calls {
		if c.path != "/hook" {
			t.Errorf("a call to %s: the redirect was followed", c.path)
		}
	}

	watch.waitCursor(key, log[len(log)-1].Cursor)
	ws = e.adminWebhooks()
	if ws[0].FailingSince != nil || ws[0].Attempts != 0 || ws[0].Queued != 0 || ws[0].LastSuccess == nil {
		t.Errorf("admin view after recovery: %+v", ws[0])
	}
	for outcome, atLeast := range map[string]int{"refused": 4, "timeout": 1, "delivered": len(log)} {
		series := fmt.Sprintf(`lendgate_webhook_deliveries_total{endpoint=%q,outcome=%q}`, name, outcome)
		var n int
		fmt.Sscan(e.metric(series), &n)
		if n < atLeast {
			t.Errorf("%s = %d, want at least %d", series, n, atLeast)
		}
	}
}

// An event that fails for longer than the give-up time is given up,
// counted and logged, and the endpoint moves on to the next event.
func TestWebhooksGiveUpAnEventAndMoveOn(t *testing.T) {
	r := newReceiver(t)
	cfg := fakeConfig(t)
	webhookConfig(&cfg, r, "/hook")
	key, name := r.srv.URL+"/hook", "webhook-1"
	timing := testWebhookTiming
	timing.GiveUp = 25 * timing.First
	watch := useTiming(t, &cfg, timing)
	e := start(t, cfg)

	var mu sync.Mutex
	poisoned := "" // the first event the receiver sees, refused every time
	r.setAnswer(func(id string, n int) int {
		mu.Lock()
		defer mu.Unlock()
		if poisoned == "" {
			poisoned = id
		}
		if id == poisoned {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	lend(e, 3, "patron")
	log := logEvents(t, e.h)
	r.waitDelivered(len(log) - 1)
	watch.waitCursor(key, log[len(log)-1].Cursor) // the last one given up too
	calls := r.snapshot()
	mu.Lock()
	first := poisoned
	mu.Unlock()
	checkDeliveries(t, calls, log, first)
	if failedCalls(calls, first) < 2 {
		t.Errorf("the given-up event was tried %d times, want retries first", failedCalls(calls, first))
	}
	if ws := e.adminWebhooks(); ws[0].GivenUp != 1 || ws[0].Queued != 0 {
		t.Errorf("admin view: %+v, want one event given up and none queued", ws[0])
	}
	if v := e.metric(fmt.Sprintf(`lendgate_webhook_deliveries_total{endpoint=%q,outcome="given_up"}`, name)); v != "1" {
		t.Errorf("given_up = %q, want 1", v)
	}
	if !strings.Contains(e.logs.String(), "webhook event given up") || !strings.Contains(e.logs.String(), first) {
		t.Errorf("the give-up is not logged with its event id")
	}
}

// Pending deliveries are journaled: a host restarted on the same bolt file
// delivers what the first could not, and not again what it had delivered.
func TestWebhooksContinueAfterARestart(t *testing.T) {
	r := newReceiver(t)
	path := filepath.Join(t.TempDir(), "lendgate.db")
	config := func() (host.Config, *journalWatch) {
		cfg := fakeConfig(t)
		cfg.StoreImpl = nil
		cfg.Store = host.StoreConfig{Driver: "bolt", DSN: path}
		webhookConfig(&cfg, r, "/hook")
		return cfg, useTiming(t, &cfg, testWebhookTiming)
	}
	cfg, _ := config()
	e1 := start(t, cfg)
	lend(e1, 2, "before")
	r.waitDelivered(2)
	r.setAnswer(func(string, int) int { return http.StatusServiceUnavailable })
	lend(e1, 2, "during")
	pending := logEvents(t, e1.h)[2].ID
	r.waitFor("failed attempts", func(cs []hookCall) bool { return failedCalls(cs, pending) >= 2 })
	if err := e1.h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	r.setAnswer(func(string, int) int { return http.StatusOK })
	cfg, watch := config()
	e2 := start(t, cfg)
	lend(e2, 1, "after")
	log := logEvents(t, e2.h)
	if len(log) != 5 {
		t.Fatalf("%d events after the restart, want 5", len(log))
	}
	checkDeliveries(t, r.waitDelivered(len(log)), log)
	watch.waitCursor(r.srv.URL+"/hook", log[4].Cursor)
	if ws := e2.adminWebhooks(); ws[0].Queued != 0 || ws[0].FailingSince != nil {
		t.Errorf("admin view after the restart: %+v", ws[0])
	}
}

// An admin view the journal cannot answer is 503 journal_unavailable.
func TestWebhooksAdminViewWithoutJournal(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "lendgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t)
	cfg := host.Config{Secret: testSecret, APIKeys: []string{testAPIKey}, AdminKeys: []string{testAdminKey}, StoreImpl: store}
	webhookConfig(&cfg, r, "/hook")
	useTiming(t, &cfg, testWebhookTiming)
	e := start(t, cfg)
	if ws := e.adminWebhooks(); len(ws) != 1 || ws[0].Queued != 0 || ws[0].LastSuccess != nil {
		t.Fatalf("admin view of a new endpoint: %+v", ws)
	}
	store.Close()
	e.expectProblem(e.do("GET", "/v1/admin/webhooks", nil, "Authorization", "Bearer "+testAdminKey), http.StatusServiceUnavailable, "journal_unavailable")
}

// Close lets an attempt in flight finish and journals its 2xx, so that the
// event is not sent again after the restart.
func TestWebhooksCloseFinishesTheAttemptInFlight(t *testing.T) {
	r := newReceiver(t)
	arrived, release := make(chan string, 1), make(chan struct{})
	r.setAnswer(func(id string, n int) int {
		select {
		case arrived <- id:
		default:
		}
		<-release
		return http.StatusOK
	})
	store := memory.New()
	config := func() (host.Config, chan struct{}) {
		cfg := fakeConfig(t)
		cfg.StoreImpl = store
		webhookConfig(&cfg, r, "/hook")
		closing := make(chan struct{})
		timing := testWebhookTiming
		timing.Closing = func() { close(closing) }
		useTiming(t, &cfg, timing)
		return cfg, closing
	}
	cfg, closing := config()
	e1 := start(t, cfg)
	lend(e1, 1, "before")
	var id string
	select {
	case id = <-arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("no delivery attempt within 60 s")
	}
	closed := make(chan error, 1)
	go func() { closed <- e1.h.Close(context.Background()) }()
	<-closing // Close has cancelled the loop: the 2xx comes after that
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	log := logEvents(t, e1.h)
	if st, err := store.WebhookState(context.Background(), r.srv.URL+"/hook"); err != nil || st.Cursor != log[0].Cursor || id != log[0].ID {
		t.Fatalf("after Close: journal %+v (%v), want the 2xx of %s journaled", st, err, id)
	}

	cfg, _ = config()
	e2 := start(t, cfg)
	lend(e2, 1, "after")
	log = logEvents(t, e2.h)
	checkDeliveries(t, r.waitDelivered(len(log)), log)
}
