// Command fakeplugin is a provider plugin for the host's own tests: it
// answers at once and its behaviour is steered by the checkout option "mode"
// (and "started", a FIFO it writes one byte to when a checkout begins):
// "error:<code>" answers that unified code, "sleep:<duration>" waits (honouring
// the deadline), "panic" panics, "exit" ends the process. A loan checked out
// with mode "lose" loses the answers of its renewals and returns: the first
// renewal under a RenewalID and the first return take effect and answer
// provider_error of unknown outcome; a renewal sent again under the same
// RenewalID answers duplicate_reference, a return sent again the returned
// loan (the distributor's dedupe). With the instance setting "calls_file",
// every renewal and return appends a line to that file ("renew <loan>
// <renewal id>", "return <loan>"): what reached the "distributor". Build
// flags make a binary that fails its health checks or crashes at start, or
// that declares DedupesRenew and DedupesReturn.
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Set with -ldflags "-X main.version=… -X main.healthy=false -X main.startup=crash
// -X main.unhealthyInstance=name".
var (
	version = "1.0.0"
	healthy = "true"  // "false": every instance fails its health check
	startup = "serve" // "crash": exit before the handshake
	// unhealthyInstance names one instance that fails its health checks.
	unhealthyInstance = ""
	// dedupes "true" declares DedupesRenew and DedupesReturn.
	dedupes = "false"
)

type fake struct {
	sdk.Unimplemented
	mu        sync.Mutex
	instances map[string]map[string]string
	// What the "distributor" did for loans of mode "lose": the renewal ids
	// it renewed under, the loans it took back.
	renewed  map[string]bool
	returned map[string]bool
}

func (f *fake) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name: "fake", Version: version, Items: sdk.ItemsISBN,
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapReturn, sdk.CapNotifications},
		Formats:      []string{"epub", "pdf"},
		Options:      map[string][]string{"mode": nil, "level": {"low", "high"}, "started": nil},
		DedupesRenew: dedupes == "true", DedupesReturn: dedupes == "true",
	}, nil
}

// record appends line to the instance's calls_file, if it has one.
func (f *fake) record(instance, line string) {
	f.mu.Lock()
	p := f.instances[instance]["calls_file"]
	f.mu.Unlock()
	if p == "" {
		return
	}
	if w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		_, _ = w.WriteString(line + "\n")
		_ = w.Close()
	}
}

// lost is the error of an answer lost after the distributor acted.
func lost(what string) error {
	return sdk.Errorf(sdk.CodeProviderError, "the distributor's answer to the %s was lost", what).WithOutcome(sdk.OutcomeUnknown)
}

func (f *fake) Configure(_ context.Context, instance string, settings map[string]string) error {
	if settings["fail_configure"] == "true" {
		return sdk.Errorf(sdk.CodeProviderCredentials, "configure refused for %s", instance)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances[instance] = settings
	return nil
}

func (f *fake) Health(_ context.Context, instance string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if healthy == "false" || instance == unhealthyInstance || f.instances[instance]["fail_health"] == "true" {
		return sdk.Errorf(sdk.CodeProviderError, "unhealthy")
	}
	if p := f.instances[instance]["health_file"]; p != "" { // healthy while the file exists
		if _, err := os.Stat(p); err != nil {
			return sdk.Errorf(sdk.CodeProviderError, "unhealthy: no health file")
		}
	}
	return nil
}

func behave(ctx context.Context, mode string) error {
	switch {
	case strings.HasPrefix(mode, "error:"):
		return sdk.Errorf(sdk.Code(strings.TrimPrefix(mode, "error:")), "as asked").WithProviderCode("FAKE-1").WithRetryAfter(3 * time.Second)
	case strings.HasPrefix(mode, "sleep:"):
		d, _ := time.ParseDuration(strings.TrimPrefix(mode, "sleep:"))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return sdk.Errorf(sdk.CodeProviderTimeout, "deadline reached in the plugin")
		}
	case mode == "panic":
		panic("asked to panic")
	case mode == "exit":
		os.Exit(3)
	}
	return nil
}

func (f *fake) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	if p := r.Options["started"]; p != "" {
		// A test's FIFO: writing to it tells the test this call is in
		// flight (the write waits for the test to read).
		if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			_, _ = w.Write([]byte{1})
			_ = w.Close()
		}
	}
	if err := behave(ctx, r.Options["mode"]); err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{
		Format:      r.Format,
		ExpiresAt:   time.Now().Add(time.Duration(max(r.Days, 1)) * 24 * time.Hour),
		Links:       []sdk.Link{{Format: r.Format, Rel: "content", Href: "https://content.example/" + r.LoanID}},
		ProviderRef: map[string]string{"patron_seen": r.Patron, "notify_url": r.NotifyURL, "version": version},
	}, nil
}

func (f *fake) Fulfill(ctx context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	if err := behave(ctx, r.Loan.Options["mode"]); err != nil {
		return sdk.Fulfillment{}, err
	}
	format := r.Format
	if format == "" {
		format = r.Loan.Format
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: format, Rel: "content", Href: "https://content.example/" + r.Loan.ID + "/" + format + "?v=" + version}}}, nil
}

func (f *fake) Renew(_ context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	f.record(r.Instance, "renew "+r.Loan.ID+" "+r.RenewalID)
	if r.Loan.Options["mode"] == "lose" {
		f.mu.Lock()
		seen := f.renewed[r.RenewalID]
		f.renewed[r.RenewalID] = true
		f.mu.Unlock()
		if seen {
			return sdk.Loan{}, sdk.Errorf(sdk.CodeDuplicateReference, "renewal %s was made before", r.RenewalID)
		}
		return sdk.Loan{}, lost("renewal")
	}
	return sdk.Loan{ExpiresAt: r.Loan.ExpiresAt.Add(time.Duration(r.Days) * 24 * time.Hour), ProviderRef: map[string]string{"renewal": r.RenewalID}}, nil
}

func (f *fake) Return(_ context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	f.record(r.Instance, "return "+r.Loan.ID)
	if r.Loan.Options["mode"] == "lose" {
		f.mu.Lock()
		seen := f.returned[r.Loan.ID]
		f.returned[r.Loan.ID] = true
		f.mu.Unlock()
		if !seen {
			return sdk.Loan{}, lost("return")
		}
	}
	return sdk.Loan{}, nil
}

func (f *fake) HandleNotification(_ context.Context, n sdk.Notification) (sdk.Event, error) {
	var body struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(n.Body, &body); err != nil {
		return sdk.Event{}, sdk.Errorf(sdk.CodeInvalidRequest, "unreadable notification")
	}
	if body.Type == "return" {
		return sdk.Event{Type: sdk.EventLoanReturned, Data: map[string]string{"type": body.Type}}, nil
	}
	return sdk.Event{Type: sdk.EventLoanNotified, Data: map[string]string{"type": body.Type}}, nil
}

func main() {
	if startup == "crash" {
		os.Exit(2)
	}
	if err := sdk.Serve(&fake{instances: map[string]map[string]string{}, renewed: map[string]bool{}, returned: map[string]bool{}}); err != nil {
		log.Fatal(err)
	}
}
