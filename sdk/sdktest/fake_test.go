package sdktest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// Items of the fake distributor.
const (
	itemAvailable = "book-1"
	itemNoCopies  = "book-gone"
	itemBusy      = "book-busy" // the distributor asks to come back in 30 s
	itemSlow      = "book-slow" // the distributor answers only when the call gives up
)

// fake is a well-behaved provider with every capability, in memory: the
// control for the broken variants of broken_test.go, and the Provider-mode
// run of the kit.
type fake struct {
	sdk.Unimplemented

	mu        sync.Mutex
	instances map[string]bool
	loans     map[string]bool // by loan id
}

func newFake() *fake { return &fake{instances: map[string]bool{}, loans: map[string]bool{}} }

func (f *fake) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "fake", Version: "0.1.0", Formats: []string{"epub"},
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapReturn,
			sdk.CapDownload, sdk.CapAccessCheck, sdk.CapNotifications},
		Options: map[string][]string{"medium": {"download", "streaming"}}}, nil
}

func (f *fake) Configure(_ context.Context, instance string, settings map[string]string) error {
	if settings["api_key"] == "" {
		return sdk.Errorf(sdk.CodeInvalidRequest, "setting api_key is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances[instance] = true
	return nil
}

func (f *fake) configured(instance string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.instances[instance] {
		return sdk.Errorf(sdk.CodeProviderCredentials, "instance %q is not configured", instance)
	}
	return nil
}

func (f *fake) Checkout(ctx context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.Loan{}, err
	}
	switch r.Item {
	case itemNoCopies:
		return sdk.Loan{}, sdk.Errorf(sdk.CodeNotAvailable, "no copies left").WithProviderCode("NO_COPIES")
	case itemBusy:
		return sdk.Loan{}, sdk.Errorf(sdk.CodeTryLater, "busy").WithProviderCode("BUSY").WithRetryAfter(30 * time.Second)
	case itemSlow:
		<-ctx.Done()
		return sdk.Loan{}, sdk.Errorf(sdk.CodeProviderTimeout, "distributor did not answer in time")
	}
	f.mu.Lock()
	f.loans[r.LoanID] = true
	f.mu.Unlock()
	return sdk.Loan{Format: "epub", ExpiresAt: time.Now().Add(14 * 24 * time.Hour),
		Links:       []sdk.Link{{Format: "epub", Rel: "content", Href: "https://fake.example/read/" + r.LoanID}},
		ProviderRef: map[string]string{"fake_id": r.LoanID}}, nil
}

func (f *fake) loan(instance, id string) error {
	if err := f.configured(instance); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loans[id] {
		return sdk.Errorf(sdk.CodeLoanNotFound, "no loan %q", id)
	}
	return nil
}

func (f *fake) Fulfill(_ context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	if err := f.loan(r.Instance, r.Loan.ID); err != nil {
		return sdk.Fulfillment{}, err
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: "epub", Rel: "content", Href: "https://fake.example/read/" + r.Loan.ID + "?fresh"}}}, nil
}

func (f *fake) Renew(_ context.Context, r sdk.RenewRequest) (sdk.Loan, error) {
	if err := f.loan(r.Instance, r.Loan.ID); err != nil {
		return sdk.Loan{}, err
	}
	return sdk.Loan{Format: r.Loan.Format, ExpiresAt: r.Loan.ExpiresAt.Add(time.Duration(r.Days) * 24 * time.Hour)}, nil
}

func (f *fake) Return(_ context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	if err := f.loan(r.Instance, r.Loan.ID); err != nil {
		return sdk.Loan{}, err
	}
	f.mu.Lock()
	delete(f.loans, r.Loan.ID)
	f.mu.Unlock()
	return sdk.Loan{Format: r.Loan.Format, ExpiresAt: time.Now()}, nil
}

func (f *fake) Download(_ context.Context, r sdk.DownloadRequest) (sdk.Fulfillment, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.Fulfillment{}, err
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: r.Format, Rel: "content", Href: "https://fake.example/dl/" + r.Transaction}}}, nil
}

func (f *fake) CheckAccess(_ context.Context, r sdk.AccessRequest) (bool, error) {
	if err := f.configured(r.Instance); err != nil {
		return false, err
	}
	return r.Password == "open sesame", nil
}

func (f *fake) HandleNotification(_ context.Context, n sdk.Notification) (sdk.Event, error) {
	if err := f.loan(n.Instance, n.Loan.ID); err != nil {
		return sdk.Event{}, err
	}
	return sdk.Event{Type: sdk.EventLoanReturned}, nil
}

var _ sdk.Provider = (*fake)(nil)

// checkoutOf is an error case's call: checkout of item, as checkout with
// the instance and loan id filled in.
func checkoutOf(checkout sdk.CheckoutRequest, item string) func(context.Context, sdk.Provider, string) error {
	return func(ctx context.Context, p sdk.Provider, instance string) error {
		r := checkout
		r.Instance, r.LoanID, r.Item = instance, "ln_"+item, item
		_, err := p.Checkout(ctx, r)
		return err
	}
}

// fakeConfig is a kit config for p (a fake or a broken variant).
func fakeConfig(p sdk.Provider) sdktest.Config {
	checkout := sdk.CheckoutRequest{Item: itemAvailable, Patron: "patron-1", Format: "epub", Days: 14,
		Options: map[string]string{"medium": "download"}}
	return sdktest.Config{
		Provider: p,
		Settings: map[string]string{"api_key": "k"},
		Checkout: checkout,
		Download: sdk.DownloadRequest{Customer: "c", Transaction: "t-1", Item: itemAvailable, Format: "epub"},
		Access:   sdk.AccessRequest{Item: itemAvailable, Patron: "patron-1", Password: "open sesame"},
		Notification: func(sdk.LoanRef) sdk.Notification {
			return sdk.Notification{Method: http.MethodPost, Body: []byte(`{"returned":true}`)}
		},
		ErrorCases: []sdktest.ErrorCase{
			{Name: "no copies", Call: checkoutOf(checkout, itemNoCopies), Code: sdk.CodeNotAvailable, ProviderCode: "NO_COPIES"},
			{Name: "busy", Call: checkoutOf(checkout, itemBusy), Code: sdk.CodeTryLater, ProviderCode: "BUSY", RetryAfter: 30 * time.Second},
		},
		Slow: checkoutOf(checkout, itemSlow),
	}
}

// TestProviderMode runs the kit on a well-behaved Provider value served in
// process.
func TestProviderMode(t *testing.T) {
	sdktest.Run(t, fakeConfig(newFake()))
}
