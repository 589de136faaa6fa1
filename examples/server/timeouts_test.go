package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
)

func TestServerBoundsSlowClients(t *testing.T) {
	cfg := host.Config{Providers: map[string]host.ProviderConfig{
		"slow": {Timeout: host.Duration(90 * time.Second), Rate: host.RateConfig{MaxWait: host.Duration(5 * time.Second)}},
		"fast": {},
	}}
	srv := newServer(http.NotFoundHandler(), cfg)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.WriteTimeout <= 0 {
		t.Fatalf("a timeout is unset: header %v, read %v, idle %v, write %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.WriteTimeout)
	}
	// The write timeout runs from the end of the headers: it must cover
	// the body and the longest call, or a checkout's answer is lost after
	// the distributor made it.
	if longest := srv.ReadTimeout + 95*time.Second; srv.WriteTimeout <= longest {
		t.Errorf("write timeout %v does not cover reading the body and the slowest instance's call (%v)", srv.WriteTimeout, longest)
	}
}
