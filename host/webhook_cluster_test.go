package host_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lendgate/lendgate/host"
	_ "github.com/lendgate/lendgate/host/journal/postgres" // the store of the nodes
	"github.com/lendgate/lendgate/internal/testserver"
)

// Two nodes on one PostgreSQL database: each event, whichever node
// appended it, reaches the receiver once and in log order; when the node
// that delivers stops, the other takes over where it stood.
func TestWebhooksClusterDeliversEachEventOnce(t *testing.T) {
	dsn := testserver.SharedPostgres(t)
	r := newReceiver(t)
	node := func() host.Config {
		cfg := fakeConfig(t)
		cfg.StoreImpl = nil
		cfg.Store = host.StoreConfig{Driver: "postgres", DSN: dsn}
		webhookConfig(&cfg, r, "/hook")
		useTiming(t, &cfg, testWebhookTiming)
		return cfg
	}
	a := start(t, node())
	lend(a, 1, "first")
	r.waitDelivered(1) // a delivers: it was alone
	b := start(t, node())
	for i := range 3 {
		lend(a, 1, fmt.Sprintf("a%d", i))
		lend(b, 1, fmt.Sprintf("b%d", i))
	}
	r.waitDelivered(7)
	if err := a.h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lend(b, 2, "after")
	log := logEvents(t, b.h)
	if len(log) != 9 {
		t.Fatalf("%d events, want 9", len(log))
	}
	checkDeliveries(t, r.waitDelivered(len(log)), log)
}

// The outbound client speaks TLS 1.2 or newer only.
func TestWebhooksNeedTLS12OrNewer(t *testing.T) {
	modern := newReceiverOn(t, httptest.NewTLSServer)
	old := newReceiverOn(t, func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
		s.StartTLS()
		return s
	})
	roots := x509.NewCertPool()
	roots.AddCert(modern.srv.Certificate())
	roots.AddCert(old.srv.Certificate())
	cfg := fakeConfig(t)
	for _, r := range []*receiver{modern, old} {
		cfg.Webhooks = append(cfg.Webhooks, host.WebhookConfig{URL: r.srv.URL + "/hook", Secret: r.secret})
	}
	timing := testWebhookTiming
	timing.Roots = roots
	watch := useTiming(t, &cfg, timing)
	e := start(t, cfg)
	lend(e, 1, "patron")
	checkDeliveries(t, modern.waitDelivered(1), logEvents(t, e.h))
	st := watch.waitFor(old.srv.URL+"/hook", "a failed attempt", func(st host.WebhookState) bool { return st.Attempts > 0 })
	if st.LastError != "connection" || len(old.snapshot()) != 0 {
		t.Errorf("a TLS 1.1 receiver: state %+v, %d requests served; want the handshake refused", st, len(old.snapshot()))
	}
}
