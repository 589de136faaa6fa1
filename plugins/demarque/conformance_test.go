package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// TestConformance runs the SDK's conformance kit on the built demarque
// binary against demarquesim, as the host would run it.
func TestConformance(t *testing.T) {
	bin := sdktest.Build(t, ".")
	sim := demarquesim.New()
	srv := sdktest.Simulator(t, sim) // the kit's fault hook too

	checkout := sdk.CheckoutRequest{
		Item:       demarquesim.ISBNAvailable,
		Patron:     "0123456789abcdef0123456789abcdef",
		PatronName: "Jane Doe",
		Format:     "epub",
		Days:       21,
		Options:    map[string]string{"loan_url": sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)},
	}
	// withFault makes one checkout while the simulator answers with f.
	withFault := func(f demarquesim.Faults) func(context.Context, sdk.Provider, string) error {
		return func(ctx context.Context, p sdk.Provider, instance string) error {
			sim.SetFaults(f)
			defer sim.SetFaults(demarquesim.Faults{})
			r := checkout
			r.Instance, r.LoanID = instance, "ln_fault"
			_, err := p.Checkout(ctx, r)
			return err
		}
	}

	sdktest.Run(t, sdktest.Config{
		Binary: bin,
		Settings: map[string]string{
			"base_url":                   srv.URL,
			"organisation_id":            demarquesim.DefaultOrganisation,
			"username":                   demarquesim.DefaultUsername,
			"password":                   demarquesim.DefaultPassword,
			sdk.SettingAllowInsecureHTTP: "true",
		},
		Checkout: checkout,
		Faults:   srv,
		// Did the call reach the warehouse? The loan kept under its
		// transaction_id (the host's loan id), the download asked for.
		Effects: sdktest.Effects{
			Checkout: func(r sdk.CheckoutRequest, _ sdk.Loan) bool { _, ok := sim.Loan(r.LoanID); return ok },
			Download: func(r sdk.DownloadRequest, _ sdk.Fulfillment) bool {
				for _, q := range sim.Requests() {
					if q.Endpoint == demarquesim.EndpointDownload && strings.Contains(q.Path, r.Transaction) {
						return true
					}
				}
				return false
			},
			Checkouts: func(loanID string) int {
				if _, ok := sim.Loan(loanID); ok {
					return 1 // the warehouse keys loans by transaction_id
				}
				return 0
			},
		},
		Download: sdk.DownloadRequest{Customer: "cust_42", Transaction: "basket-7", Item: demarquesim.ISBNSecond, Format: "pdf", PatronName: "Jane Doe"},
		Notification: func(loan sdk.LoanRef) sdk.Notification {
			body := fmt.Sprintf(`{"type":"return","time":"2026-11-22T10:00:00Z","data":{"loan":"L000001","transaction":%q,"time_before_expire":3600}}`, loan.ID)
			return sdk.Notification{Method: http.MethodPost, Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(body)}
		},
		ErrorCases: []sdktest.ErrorCase{
			{
				Name: "publication not in the catalogue",
				Call: func(ctx context.Context, p sdk.Provider, instance string) error {
					r := checkout
					r.Instance, r.LoanID, r.Item = instance, "ln_unknown", demarquesim.ISBNUnknown
					r.Options = map[string]string{"loan_url": sim.LoanURL(srv.URL, demarquesim.ISBNUnknown)}
					_, err := p.Checkout(ctx, r)
					return err
				},
				Code: sdk.CodeItemNotFound, ProviderCode: "publication_not_found",
			},
			{
				Name: "wrong password on downloads",
				Call: func(ctx context.Context, p sdk.Provider, instance string) error {
					sim.SetFaults(demarquesim.Faults{Status: http.StatusUnauthorized})
					defer sim.SetFaults(demarquesim.Faults{})
					_, err := p.Download(ctx, sdk.DownloadRequest{Instance: instance, Customer: "cust_42", Transaction: "basket-7",
						Item: demarquesim.ISBNSecond, Format: "pdf", PatronName: "Jane Doe"})
					return err
				},
				Code: sdk.CodeProviderCredentials, ProviderCode: "access_denied",
			},
			{
				Name: "come back later",
				Call: withFault(demarquesim.Faults{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second}),
				Code: sdk.CodeTryLater, ProviderCode: "too_many_requests", RetryAfter: 30 * time.Second,
			},
			{
				Name: "warehouse fails",
				Call: withFault(demarquesim.Faults{Status: http.StatusInternalServerError}),
				Code: sdk.CodeProviderError, ProviderCode: "server_error",
			},
		},
		Slow: withFault(demarquesim.Faults{Latency: time.Minute}),
	})
}
