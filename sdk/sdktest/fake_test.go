package sdktest_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
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
// run of the kit. Its distributor deduplicates checkouts by loan id,
// renewals by renewal id, and answers a repeated return.
type fake struct {
	sdk.Unimplemented

	mu        sync.Mutex
	instances map[string]bool
	loans     map[string]time.Time // by loan id: its expiry
	returned  map[string]bool
	renewals  map[string]int // extensions by renewal id
	renewed   map[string]sdk.Loan
	downloads map[string]bool // by transaction
}

func newFake() *fake {
	return &fake{instances: map[string]bool{}, loans: map[string]time.Time{}, returned: map[string]bool{},
		renewals: map[string]int{}, renewed: map[string]sdk.Loan{}, downloads: map[string]bool{}}
}

func (f *fake) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "fake", Version: "0.1.0", Formats: []string{"epub"},
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapReturn,
			sdk.CapDownload, sdk.CapAccessCheck, sdk.CapNotifications, sdk.CapResolve, sdk.CapAvailability, sdk.CapReconcile},
		Options:         map[string][]string{"medium": {"download", "streaming"}},
		DedupesCheckout: true, DedupesRenew: true, DedupesReturn: true}, nil
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
	expires, ok := f.loans[r.LoanID]
	if !ok {
		expires = time.Now().Add(time.Duration(r.Days) * 24 * time.Hour)
		f.loans[r.LoanID] = expires
	}
	f.mu.Unlock()
	return sdk.Loan{Format: "epub", ExpiresAt: expires,
		Links:       []sdk.Link{{Format: "epub", Rel: sdk.RelContent, Href: "https://fake.example/read/" + r.LoanID, Type: sdk.MediaTypeEPUB}},
		ProviderRef: map[string]string{"fake_id": r.LoanID}}, nil
}

func (f *fake) loan(instance, id string) error {
	if err := f.configured(instance); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.loans[id]; !ok {
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.renewed[r.RenewalID]; ok {
		return l, nil // the same renewal again: its answer again
	}
	expires := f.loans[r.Loan.ID].Add(time.Duration(r.Days) * 24 * time.Hour)
	f.loans[r.Loan.ID] = expires
	f.renewals[r.RenewalID]++
	l := sdk.Loan{Format: r.Loan.Format, ExpiresAt: expires}
	f.renewed[r.RenewalID] = l
	return l, nil
}

func (f *fake) Return(_ context.Context, r sdk.ReturnRequest) (sdk.Loan, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.Loan{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, held := f.loans[r.Loan.ID]
	switch {
	case held:
		delete(f.loans, r.Loan.ID)
		f.returned[r.Loan.ID] = true
	case !f.returned[r.Loan.ID]:
		return sdk.Loan{}, sdk.Errorf(sdk.CodeLoanNotFound, "no loan %q", r.Loan.ID)
	}
	return sdk.Loan{Format: r.Loan.Format}, nil
}

func (f *fake) Download(_ context.Context, r sdk.DownloadRequest) (sdk.Fulfillment, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.Fulfillment{}, err
	}
	f.mu.Lock()
	f.downloads[r.Transaction] = true
	f.mu.Unlock()
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

func (f *fake) Resolve(_ context.Context, r sdk.ResolveRequest) (sdk.Resolution, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.Resolution{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	expires, ok := f.loans[r.Loan.ID]
	if !ok {
		return sdk.Resolution{}, nil
	}
	return sdk.Resolution{Placed: true, Loan: sdk.Loan{Format: "epub", ExpiresAt: expires, ProviderRef: map[string]string{"fake_id": r.Loan.ID}}}, nil
}

func (f *fake) Availability(_ context.Context, r sdk.AvailabilityRequest) (sdk.Availability, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.Availability{}, err
	}
	return sdk.Availability{Owned: 5, Available: 3, Licenses: []sdk.License{
		{ID: "urn:fake:1", Format: sdk.MediaTypeEPUB, Status: "available", Checkouts: 20, Left: 12, Concurrency: 5, Available: 3},
	}}, nil
}

func (f *fake) Reconcile(_ context.Context, r sdk.ReconcileRequest) (sdk.ReconcilePage, error) {
	if err := f.configured(r.Instance); err != nil {
		return sdk.ReconcilePage{}, err
	}
	f.mu.Lock()
	ids := slices.Sorted(maps.Keys(f.loans))
	f.mu.Unlock()
	from := 0
	if r.Cursor != "" {
		n, err := strconv.Atoi(r.Cursor)
		if err != nil || n < 0 || n > len(ids) {
			return sdk.ReconcilePage{}, sdk.Errorf(sdk.CodeInvalidRequest, "cursor %q", r.Cursor)
		}
		from = n
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 100
	}
	to := min(from+limit, len(ids))
	var p sdk.ReconcilePage
	for _, id := range ids[from:to] {
		p.Loans = append(p.Loans, sdk.HeldLoan{LoanID: id, ProviderRef: map[string]string{"fake_id": id}})
	}
	if to < len(ids) {
		p.Next = strconv.Itoa(to)
	}
	return p, nil
}

// Effects hooks: what the fake distributor recorded.

func (f *fake) placed(loanID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.loans[loanID]; ok || f.returned[loanID] {
		return 1
	}
	return 0
}

func (f *fake) renewalsOf(_ sdk.LoanRef, renewalID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.renewals[renewalID]
}

func (f *fake) wasReturned(l sdk.LoanRef) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.returned[l.ID]
}

func (f *fake) sold(r sdk.DownloadRequest, _ sdk.Fulfillment) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.downloads[r.Transaction]
}

// effectsOf are the effects hooks on f.
func effectsOf(f *fake) sdktest.Effects {
	return sdktest.Effects{
		Checkout:  func(r sdk.CheckoutRequest, _ sdk.Loan) bool { return f.placed(r.LoanID) == 1 },
		Renew:     func(l sdk.LoanRef, _ sdk.Loan) bool { return f.loan("sdktest", l.ID) == nil },
		Return:    f.wasReturned,
		Download:  f.sold,
		Checkouts: f.placed,
		Renewals:  f.renewalsOf,
	}
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

// fakeConfig is a kit config for p (a fake or a broken variant, whose
// fake is f: the effects hooks ask it).
func fakeConfig(p sdk.Provider, f *fake) sdktest.Config {
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
		Slow:    checkoutOf(checkout, itemSlow),
		Effects: effectsOf(f),
	}
}

// TestProviderMode runs the kit on a well-behaved Provider value served in
// process.
func TestProviderMode(t *testing.T) {
	f := newFake()
	sdktest.Run(t, fakeConfig(f, f))
}
