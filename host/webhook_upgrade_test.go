package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/postgres"
	"github.com/lendgate/lendgate/internal/testserver"
)

// The endpoints of testdata/webhooks-v1 (lendgate.db and its log), a bolt
// journal written by the journal before endpoints had names, closed
// cleanly, its log at 16 KiB (commit 9d72493): it keys them by URL
// without query. Seven events; the first endpoint delivered up to event 4
// and was failing on 5 (three attempts, since 2026-11-30 09:00 UTC), the
// second is up to date at 7.
const (
	fixtureAll     = "https://ils.example/hooks/s3cret-path-token"
	fixtureReturns = "https://ils.example/hooks/returns"
)

// upgradedConfig is a config naming the first endpoint and leaving the
// second its default name (webhook-2), on the journal store.
func upgradedConfig(t *testing.T, store host.StoreConfig) host.Config {
	cfg := fakeConfig(t)
	cfg.StoreImpl = nil
	cfg.Store = store
	cfg.Webhooks = []host.WebhookConfig{
		{Name: "ils", URL: fixtureAll + "?token=query-token", Secret: testWebhookSecret},
		{URL: fixtureReturns, Secret: testWebhookSecret, Events: []string{"loan.returned"}},
	}
	timing := testWebhookTiming
	timing.First, timing.Max = time.Hour, time.Hour // the receivers do not exist: one attempt each
	useTiming(t, &cfg, timing)
	return cfg
}

// checkUpgraded asserts that each endpoint kept its journaled position and
// failure under its new name, and that the name, not the URL, labels it.
func checkUpgraded(t *testing.T, e *env) {
	t.Helper()
	ws := e.adminWebhooks()
	if len(ws) != 2 {
		t.Fatalf("admin view: %+v", ws)
	}
	failingSince := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if w := ws[0]; w.Name != "ils" || w.Cursor != journal.FormatCursor(4) || w.Queued != 3 || w.FailingSince == nil || !w.FailingSince.Equal(failingSince) {
		t.Errorf("the first endpoint after the upgrade: %+v, want ils at cursor 4 with 3 queued, failing since %s", w, failingSince)
	}
	if w := ws[1]; w.Name != "webhook-2" || w.Cursor != journal.FormatCursor(7) || w.Queued != 0 || w.LastSuccess == nil {
		t.Errorf("the second endpoint after the upgrade: %+v, want webhook-2 at cursor 7", w)
	}
	e.waitMetric(`lendgate_webhook_queued{endpoint="ils"}`, "3")
	if m := string(e.do("GET", "/metrics", nil).body); strings.Contains(m, "s3cret-path-token") || strings.Contains(m, "ils.example") {
		t.Errorf("/metrics shows an endpoint's URL")
	}
}

// A bolt journal written before endpoints had names keeps each endpoint's
// cursor and failure state: the journal key is still the URL, the name is
// only what is shown.
func TestWebhooksUpgradeKeepsTheBoltCursor(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"lendgate.db", "lendgate.db-wal"} {
		b, err := os.ReadFile(filepath.Join("testdata", "webhooks-v1", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "lendgate.db")
	e := start(t, upgradedConfig(t, host.StoreConfig{Driver: "bolt", DSN: path}))
	checkUpgraded(t, e)
}

// The same on PostgreSQL: the records as the driver journals them under
// the URL key (its webhook table is unchanged).
func TestWebhooksUpgradeKeepsThePostgresCursor(t *testing.T) {
	dsn := testserver.SharedPostgres(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	apply := func(i int, typ string) {
		id := fmt.Sprintf("ln_fixture_%d", i)
		l := journal.Loan{ID: id, Provider: "fake-a", Item: isbnOK, Patron: "patron", Status: "active", CreatedAt: at}
		if _, _, err := s.Apply(ctx, l, journal.Event{Type: typ, Provider: "fake-a", Loan: id, Patron: "patron", Item: isbnOK, At: at, Data: map[string]string{}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, "loan.created")
	apply(2, "loan.created")
	for _, ep := range []string{fixtureAll, fixtureReturns} {
		if err := s.OpenWebhook(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	for i := 3; i <= 6; i++ {
		apply(i, "loan.created")
	}
	apply(7, "loan.returned")
	save := func(key string, edit func(*journal.WebhookState)) {
		st, ok, err := s.LeaseWebhook(ctx, key, "node-1", at, at.Add(time.Minute))
		if err != nil || !ok {
			t.Fatal(err, ok)
		}
		edit(&st)
		if err := s.SaveWebhook(ctx, st, "node-1", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseWebhook(ctx, key, "node-1"); err != nil {
			t.Fatal(err)
		}
	}
	save(fixtureAll, func(st *journal.WebhookState) {
		st.Cursor, st.Attempts, st.FailingSince, st.EventFailingSince = journal.FormatCursor(4), 3, at, at
		st.LastSuccess, st.LastError, st.LastStatus = at.Add(-time.Minute), "status", 503
	})
	save(fixtureReturns, func(st *journal.WebhookState) {
		st.Cursor, st.LastSuccess, st.LastStatus = journal.FormatCursor(7), at, 204
	})
	s.Close()

	e := start(t, upgradedConfig(t, host.StoreConfig{Driver: "postgres", DSN: dsn}))
	checkUpgraded(t, e)
}
