package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// The Bookshelf user of the conformance run's access check.
const (
	conformancePatron   = "reader-conformance"
	conformancePassword = "reader-pass"
)

// TestConformance runs the SDK's conformance kit on the built cb binary
// against cbsim, as the host would run it.
func TestConformance(t *testing.T) {
	bin := sdktest.Build(t, ".")
	sim := cbsim.New(
		cbsim.WithUser(conformancePatron, conformancePassword),
		cbsim.WithGrant(conformancePatron, cbsim.EANAvailable),
	)
	srv := sdktest.Simulator(t, sim) // the kit's fault hook too

	checkout := sdk.CheckoutRequest{
		Item:    cbsim.EANAvailable,
		Patron:  conformancePatron,
		Format:  "epub",
		Days:    21,
		Options: map[string]string{optReadingMethod: "D", optProtection: "02"},
	}
	// checkoutOf makes one checkout of the sample changed by edit.
	checkoutOf := func(loanID string, edit func(*sdk.CheckoutRequest)) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			r := checkout
			r.Instance, r.LoanID = instance, loanID
			if edit != nil {
				edit(&r)
			}
			_, err := p.Checkout(ctx, r)
			return err
		}
	}
	item := func(ean string) func(*sdk.CheckoutRequest) {
		return func(r *sdk.CheckoutRequest) { r.Item = ean }
	}
	// withFault makes one checkout of the sample while cbsim answers with f.
	withFault := func(loanID string, f cbsim.Faults) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			sim.SetFaults(f)
			defer sim.SetFaults(cbsim.Faults{})
			return checkoutOf(loanID, nil)(ctx, p, instance)
		}
	}

	// EBS-10060's Retry-After is the time to the next midnight in Amsterdam
	// by the plugin process's own clock, which the kit cannot know to the
	// millisecond: the error case records the call's window and its error,
	// and the check after Run compares them.
	var noPrice struct {
		mu            sync.Mutex
		before, after time.Time
		err           error
	}
	noPriceCall := func(ctx context.Context, p sdk.Provider, instance string) error {
		before := time.Now()
		err := checkoutOf("ln_no_price", item(cbsim.EANNoPrice))(ctx, p, instance)
		after := time.Now()
		noPrice.mu.Lock()
		noPrice.before, noPrice.after, noPrice.err = before, after, err
		noPrice.mu.Unlock()
		return err
	}

	sdktest.Run(t, sdktest.Config{
		Binary: bin,
		Settings: map[string]string{
			settingBaseURL:               cbsim.BaseURL(srv.URL),
			settingUsername:              cbsim.DefaultUsername,
			settingPassword:              cbsim.DefaultPassword,
			sdk.SettingAllowInsecureHTTP: "true",
		},
		Checkout:  checkout,
		RenewDays: 7,
		Faults:    srv,
		// Did the call reach CB? The order placed under the host's loan id
		// (OrderReference), and the addition a renewal placed under its
		// renewal id.
		Effects: sdktest.Effects{
			Checkout: func(r sdk.CheckoutRequest, _ sdk.Loan) bool { _, ok := sim.Order(r.LoanID); return ok },
			Renew: func(l sdk.LoanRef, renewed sdk.Loan) bool {
				o, ok := sim.Order(renewed.ProviderRef[refLastOrderReference])
				return ok && o.AdditionTo == l.ProviderRef[refCbOrderReference]
			},
			Checkouts: func(loanID string) int { return ordersUnder(sim, loanID) },
			Renewals: func(l sdk.LoanRef, renewalID string) int {
				return additionsUnder(sim, l.ProviderRef[refCbOrderReference], renewalID)
			},
		},
		Access: sdk.AccessRequest{Item: cbsim.EANAvailable, Patron: conformancePatron, Password: conformancePassword},
		ErrorCases: []sdktest.ErrorCase{
			{
				Name: "EAN not in the catalogue",
				Call: checkoutOf("ln_not_found", item(cbsim.EANNotFound)),
				Code: sdk.CodeItemNotFound, ProviderCode: "EBS-10003",
			},
			{
				Name: "credit limit exceeded",
				Call: checkoutOf("ln_credit_limit", item(cbsim.EANCreditLimit)),
				Code: sdk.CodeLimitReached, ProviderCode: "EBS-10017",
			},
			{
				// RetryAfter is checked below, against the plugin's clock.
				// An answer about this title: it pauses nothing else.
				Name: "no price until tomorrow",
				Call: noPriceCall,
				Code: sdk.CodeTryLater, ProviderCode: "EBS-10060", Scope: sdk.ScopeRequest,
			},
			{
				Name: "CB asks to slow down",
				Call: withFault("ln_slow_down", cbsim.Faults{RetryAfter: 7 * time.Second}),
				Code: sdk.CodeTryLater, ProviderCode: "HTTP 429", RetryAfter: 7 * time.Second,
			},
			{
				Name: "refused reading method and protection",
				Call: checkoutOf("ln_refused_pair", func(r *sdk.CheckoutRequest) {
					r.Options = map[string]string{optReadingMethod: "CR", optProtection: "03"}
				}),
				Code: sdk.CodeUnsupportedCombination,
			},
			{
				Name: "shoulder and tail need 21 days",
				Call: checkoutOf("ln_shoulder_tail", func(r *sdk.CheckoutRequest) {
					r.Item, r.Days = cbsim.EANShoulderTail, 14
				}),
				Code: sdk.CodeUnsupportedCombination, ProviderCode: "EBS-10046",
			},
		},
		Slow: withFault("ln_slow", cbsim.Faults{Latency: time.Minute}),
	})

	t.Run("error_case/no_price_retry_after", func(t *testing.T) {
		noPrice.mu.Lock()
		before, after, err := noPrice.before, noPrice.after, noPrice.err
		noPrice.mu.Unlock()
		var e *sdk.Error
		if !errors.As(err, &e) {
			t.Fatalf("the EBS-10060 case did not answer an *sdk.Error: %v", err)
		}
		if e.RetryAfter <= 0 {
			t.Fatalf("EBS-10060: retry after %s, want the time to the next midnight in Amsterdam", e.RetryAfter)
		}
		amsterdam, lerr := time.LoadLocation("Europe/Amsterdam")
		if lerr != nil {
			t.Fatal(lerr)
		}
		midnight := nextMidnight(before, amsterdam)
		if !nextMidnight(after, amsterdam).Equal(midnight) {
			t.Skip("the call straddled midnight in Amsterdam")
		}
		// The plugin read its clock between before and after; the wire
		// keeps whole milliseconds.
		lo, hi := midnight.Sub(after)-time.Millisecond, midnight.Sub(before)
		t.Logf("EBS-10060: retry after %s", e.RetryAfter)
		if e.RetryAfter < lo || e.RetryAfter > hi {
			t.Errorf("EBS-10060: retry after %s, want between %s and %s (to the next midnight in Amsterdam)", e.RetryAfter, lo, hi)
		}
	})
}

// ordersUnder counts the first orders (not renewals' additions) that CB
// holds under OrderReference ref.
func ordersUnder(sim *cbsim.Sim, ref string) int {
	n := 0
	for _, o := range sim.Orders() {
		if o.OrderReference == ref && o.AdditionTo == "" {
			n++
		}
	}
	return n
}

// additionsUnder counts the additions to the order cbRef placed with
// OrderReference ref (a renewal's RenewalID): CB's dedupe of renewals.
func additionsUnder(sim *cbsim.Sim, cbRef, ref string) int {
	n := 0
	for _, o := range sim.Orders() {
		if o.OrderReference == ref && o.AdditionTo == cbRef {
			n++
		}
	}
	return n
}
