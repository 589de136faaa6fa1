package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/host/journal/memory"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/sdk"
)

// TestUnhealthyInstanceIsCheckedAgain starts an instance whose health check
// fails: it answers plugin_unavailable, is checked again with backoff, and
// serves once its check passes, with no restart of the plugin; the other
// instance serves throughout.
func TestUnhealthyInstanceIsCheckedAgain(t *testing.T) {
	first, maxDelay := healthRetryFirst, healthRetryMax
	healthRetryFirst, healthRetryMax = 10*time.Millisecond, 20*time.Millisecond
	checks := make(chan *sdk.Error, 100)
	afterRecheck = func(instance string, fault *sdk.Error) {
		if instance == "flaky" {
			checks <- fault
		}
	}
	t.Cleanup(func() { healthRetryFirst, healthRetryMax, afterRecheck = first, maxDelay, nil })

	bin := testbin.Build(t, fakePluginPkg, "")
	healthFile := filepath.Join(t.TempDir(), "healthy")
	h, err := New(context.Background(), Config{Secret: "secret-for-fault-tests-0123456789abcdef", StoreImpl: memory.New(),
		Logger:  hclog.NewNullLogger(),
		Plugins: map[string]PluginConfig{"fake": {Path: bin, SHA256: testbin.SHA256(t, bin)}},
		Providers: map[string]ProviderConfig{
			"steady": {Plugin: "fake"},
			"flaky":  {Plugin: "fake", Settings: map[string]string{"health_file": healthFile}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	ctx := context.Background()
	req := CheckoutRequest{Item: "9780306406157", Patron: "p1"}

	if _, err := h.Checkout(ctx, "steady", req); err != nil {
		t.Fatalf("steady: %v", err)
	}
	_, err = h.Checkout(ctx, "flaky", req)
	if e := sdk.AsError(err); e == nil || e.Code != sdk.CodePluginUnavailable || e.RetryAfter < time.Second {
		t.Fatalf("flaky before its check passes: %v", err)
	}
	if f := <-checks; f == nil { // one more failed check: the loop runs
		t.Fatal("the re-check passed without its health file")
	}
	if err := os.WriteFile(healthFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for f := range checks {
		if f == nil {
			break
		}
	}
	if _, err := h.Checkout(ctx, "flaky", req); err != nil {
		t.Fatalf("flaky after its check passed: %v", err)
	}
	if p, _ := h.Provider(ctx, "flaky"); p.Health != "up" || p.Plugin.Restarts != 0 {
		t.Fatalf("flaky: health %s, restarts %d", p.Health, p.Plugin.Restarts)
	}
}
