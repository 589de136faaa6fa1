package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// TestConformance runs the SDK's conformance kit on the built ehub binary
// against ehubsim, as the host would run it.
func TestConformance(t *testing.T) {
	bin := sdktest.Build(t, ".")
	sim := ehubsim.New()
	srv := sdktest.Simulator(t, sim) // the kit's fault hook too

	// Not ehubsim.RecordMultiFormat: its links are the seed's malformed
	// hrefs ("http:/localhost:…"), which the plugin passes on verbatim and
	// the kit rightly refuses as links a reader could follow.
	checkout := sdk.CheckoutRequest{
		Item:   ehubsim.RecordEbook,
		Patron: "patron-conformance",
		Format: ehubsim.FormatEbook,
	}
	// checkoutOf makes one checkout of the sample, for item and patron.
	checkoutOf := func(loanID, item, patron string) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			r := checkout
			r.Instance, r.LoanID, r.Item, r.Patron = instance, loanID, item, patron
			_, err := p.Checkout(ctx, r)
			return err
		}
	}
	// withFault makes one checkout of the sample while ehubsim answers with f.
	withFault := func(loanID string, f ehubsim.Faults) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			sim.SetFaults(f)
			defer sim.SetFaults(ehubsim.Faults{})
			return checkoutOf(loanID, checkout.Item, checkout.Patron)(ctx, p, instance)
		}
	}

	sdktest.Run(t, sdktest.Config{
		Binary: bin,
		Settings: map[string]string{
			settingBaseURL:               srv.URL,
			settingAPIKey:                ehubsim.DefaultAPIKey,
			sdk.SettingAllowInsecureHTTP: "true",
		},
		// The kit's concurrent_checkouts reuse this sample (same patron, fresh
		// loan ids); its loan is still active (ehub cannot return), so every
		// one of them answers already_on_loan, a unified code, and none lends.
		Checkout: checkout,
		Faults:   srv,
		// Did the checkout reach eHUB? The checkout it holds under the id
		// the plugin keeps.
		Effects: sdktest.Effects{
			Checkout: func(_ sdk.CheckoutRequest, l sdk.Loan) bool {
				_, ok := sim.Lookup(l.ProviderRef["checkout_id"])
				return ok
			},
		},
		ErrorCases: []sdktest.ErrorCase{
			{
				// A patron of its own, so that neither the sample's loan nor
				// the kit's other checkouts decide the first answer.
				Name: "already on loan",
				Call: func(ctx context.Context, p sdk.Provider, instance string) error {
					const patron = "patron-twice"
					first := checkoutOf("ln_twice_1", ehubsim.RecordEbook, patron)(ctx, p, instance)
					if first != nil && sdk.CodeOf(first) != sdk.CodeAlreadyOnLoan {
						return first
					}
					return checkoutOf("ln_twice_2", ehubsim.RecordEbook, patron)(ctx, p, instance)
				},
				Code: sdk.CodeAlreadyOnLoan, ProviderCode: "ALREADY_ON_LOAN",
			},
			{
				Name: "record not in the catalogue",
				Call: checkoutOf("ln_unknown", ehubsim.RecordUnknown, checkout.Patron),
				Code: sdk.CodeItemNotFound, ProviderCode: "INVALID_CONTENT_PROVIDER_RECORD_ID",
			},
			{
				Name: "borrower limit reached",
				Call: checkoutOf("ln_borrower_limit", ehubsim.RecordBorrowerLimit, checkout.Patron),
				Code: sdk.CodeLimitReached, ProviderCode: "BORROWER_LIMIT_REACHED",
			},
			{
				Name: "library limit reached",
				Call: checkoutOf("ln_library_limit", ehubsim.RecordLibraryLimit, checkout.Patron),
				Code: sdk.CodeLimitReached, ProviderCode: "LIBRARY_LIMIT_REACHED",
			},
			{
				Name: "eHUB asks to slow down",
				Call: withFault("ln_slow_down", ehubsim.Faults{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second}),
				Code: sdk.CodeTryLater, ProviderCode: "TOO_MANY_REQUESTS", RetryAfter: 7 * time.Second,
			},
		},
		Slow: withFault("ln_slow", ehubsim.Faults{Latency: time.Minute}),
	})
}
