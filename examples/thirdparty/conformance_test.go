package main

import (
	"context"
	"testing"
	"time"

	"example.com/acme-lending/acmesim"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// TestConformance runs lendgate's conformance kit on the plugin binary, as
// the host would run it, against the simulator: one error case per row of
// Acme's error table.
func TestConformance(t *testing.T) {
	sim := acmesim.New()
	srv := sdktest.Simulator(t, sim) // httptest, minus waiting on handlers the plugin left, plus the kit's faults

	checkout := sdk.CheckoutRequest{Item: acmesim.ISBNAvailable, Patron: "reader-1", Format: "epub", Days: 14}
	checkoutOf := func(item string) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			r := checkout
			r.Instance, r.LoanID, r.Item = instance, "ln_"+item, item
			_, err := p.Checkout(ctx, r)
			return err
		}
	}
	readerAtLimit := func(ctx context.Context, p sdk.Provider, instance string) error {
		r := checkout
		r.Instance, r.LoanID, r.Patron = instance, "ln_reader_at_limit", acmesim.ReaderAtLimit
		_, err := p.Checkout(ctx, r)
		return err
	}
	// withFaults makes a checkout while the simulator misbehaves.
	withFaults := func(f acmesim.Faults) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			sim.SetFaults(f)
			defer sim.SetFaults(acmesim.Faults{})
			return checkoutOf(acmesim.ISBNAvailable)(ctx, p, instance)
		}
	}

	sdktest.Run(t, sdktest.Config{
		Binary:   sdktest.Build(t, "."), // with -race under go test -race
		Settings: map[string]string{"base_url": srv.URL, "api_key": acmesim.APIKey, sdk.SettingAllowInsecureHTTP: "true"},
		Checkout: checkout,
		// The kit makes Acme fail in every way a distributor does (a 502, a
		// 429, garbage, a cut connection, a slow answer, before and after
		// acting) and checks each answer's code and outcome.
		Faults: srv,
		// Did the call reach Acme? A stub that answers success fails here.
		Effects: sdktest.Effects{
			Checkout: func(_ sdk.CheckoutRequest, l sdk.Loan) bool { return sim.Lent(l.ProviderRef[refLoanID]) },
			Return:   func(l sdk.LoanRef) bool { return sim.Returned(l.ProviderRef[refLoanID]) },
		},
		ErrorCases: []sdktest.ErrorCase{
			{Name: "not in catalogue", Call: checkoutOf(acmesim.ISBNUnknown), Code: sdk.CodeItemNotFound, ProviderCode: "NOT_IN_CATALOGUE"},
			{Name: "no copies", Call: checkoutOf(acmesim.ISBNNoCopies), Code: sdk.CodeNotAvailable, ProviderCode: "NO_COPIES"},
			{Name: "not released", Call: checkoutOf(acmesim.ISBNNotReleased), // about one title: pauses nothing else
				Code: sdk.CodeTryLater, ProviderCode: "NOT_RELEASED", RetryAfter: acmesim.NotReleasedFor, Scope: sdk.ScopeRequest},
			{Name: "reader limit", Call: readerAtLimit, Code: sdk.CodeLimitReached, ProviderCode: "READER_LIMIT"},
			{Name: "rate limited", Call: withFaults(acmesim.Faults{RateLimited: true, RetryAfter: 20 * time.Second}),
				Code: sdk.CodeTryLater, ProviderCode: "SLOW_DOWN", RetryAfter: 20 * time.Second},
			{Name: "maintenance", Call: withFaults(acmesim.Faults{Maintenance: true, RetryAfter: 30 * time.Second}),
				Code: sdk.CodeTryLater, ProviderCode: "MAINTENANCE", RetryAfter: 30 * time.Second},
		},
	})
}
