package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// TestConformance runs the SDK's conformance kit on the built odl binary
// against odlsim, as the host would run it.
func TestConformance(t *testing.T) {
	bin := sdktest.Build(t, ".")
	sim := odlsim.New()
	t.Cleanup(sim.Close)
	srv := sdktest.Simulator(t, sim)

	// ISBNAvailable lends 50 at once, more than the kit's 32 concurrent
	// checkouts and its sample loans together.
	checkout := sdk.CheckoutRequest{
		Item:   odlsim.ISBNAvailable,
		Patron: "0123456789abcdef0123456789abcdef",
		Format: "epub",
		Days:   14,
	}
	checkoutOf := func(loanID, item string, opts map[string]string) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			r := checkout
			r.Instance, r.LoanID, r.Item, r.Options = instance, loanID, item, opts
			_, err := p.Checkout(ctx, r)
			return err
		}
	}
	// withFault makes one checkout of the sample while odlsim answers
	// with f.
	withFault := func(loanID string, f odlsim.Faults) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			sim.SetFaults(f)
			defer sim.SetFaults(odlsim.Faults{})
			return checkoutOf(loanID, checkout.Item, nil)(ctx, p, instance)
		}
	}
	onCheckout := []odlsim.Endpoint{odlsim.EndpointCheckout}

	sdktest.Run(t, sdktest.Config{
		Binary: bin,
		Settings: map[string]string{
			settingFeedURL:               sim.FeedURL(srv.URL),
			settingUsername:              odlsim.DefaultUsername,
			settingPassword:              odlsim.DefaultPassword,
			settingHint:                  "Your library card PIN",
			settingHintURL:               "https://library.example/pin",
			sdk.SettingAllowInsecureHTTP: "true",
		},
		Checkout: checkout,
		Effects: sdktest.Effects{
			Checkout: func(r sdk.CheckoutRequest, l sdk.Loan) bool {
				return l.ProviderRef[refCheckout] == r.LoanID && sim.Lent(r.LoanID)
			},
			Renew:     func(l sdk.LoanRef, _ sdk.Loan) bool { return sim.Renewed(l.ID) },
			Return:    func(l sdk.LoanRef) bool { return sim.Returned(l.ID) },
			Checkouts: sim.LoansOf,
		},
		Faults: srv,
		Notification: func(loan sdk.LoanRef) sdk.Notification {
			body := fmt.Sprintf(`{"id":%q,"status":"returned"}`, loan.ProviderRef[refLSDID])
			return sdk.Notification{Method: http.MethodPost, Header: map[string][]string{"Content-Type": {odlsim.TypeLSD}}, Body: []byte(body)}
		},
		ErrorCases: []sdktest.ErrorCase{
			{
				Name: "no copy free",
				Call: withFault("ln_unavailable", odlsim.Faults{Endpoints: onCheckout, Status: http.StatusForbidden, Problem: odlsim.TypeUnavailable}),
				Code: sdk.CodeNotAvailable, ProviderCode: odlsim.TypeUnavailable,
			},
			{
				Name: "no copy free, said with 400",
				Call: withFault("ln_unavailable_400", odlsim.Faults{Endpoints: onCheckout, Status: http.StatusBadRequest, Problem: odlsim.TypeUnavailable}),
				Code: sdk.CodeNotAvailable, ProviderCode: odlsim.TypeUnavailable,
			},
			{
				Name: "publication not in the feed",
				Call: checkoutOf("ln_unknown", odlsim.ISBNUnknown, nil),
				Code: sdk.CodeItemNotFound,
			},
			{
				Name: "passphrase missing",
				Call: checkoutOf("ln_lcp", odlsim.ISBNLCP, nil),
				Code: sdk.CodeInvalidRequest,
			},
			{
				Name: "credentials refused",
				Call: withFault("ln_401", odlsim.Faults{Endpoints: onCheckout, Status: http.StatusUnauthorized}),
				Code: sdk.CodeProviderCredentials, ProviderCode: odlsim.TypeGeneric,
			},
			{
				Name: "come back later",
				Call: withFault("ln_429", odlsim.Faults{Endpoints: onCheckout, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second}),
				Code: sdk.CodeTryLater, ProviderCode: odlsim.TypeGeneric, RetryAfter: 30 * time.Second,
			},
			{
				Name: "distributor fails",
				Call: withFault("ln_500", odlsim.Faults{Endpoints: onCheckout, Status: http.StatusInternalServerError}),
				Code: sdk.CodeProviderError, ProviderCode: odlsim.TypeServer,
			},
		},
		Slow: withFault("ln_slow", odlsim.Faults{Latency: time.Minute}),
	})
}
