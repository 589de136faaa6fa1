package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
)

const odlLibrary = "odl-library"

func odl() *distributor {
	sim := odlsim.New()
	return &distributor{
		name: "ODL distributor (OPDS 2 + License Status Documents)", plugin: "odl", sim: sim, close: sim.Close,
		providers: func(simURL string) map[string]host.ProviderConfig {
			return map[string]host.ProviderConfig{odlLibrary: {
				Plugin: "odl",
				Settings: map[string]string{"feed_url": sim.FeedURL(simURL), "username": odlsim.DefaultUsername,
					"password": odlsim.DefaultPassword, "hint": "Your library card PIN", "hint_url": "https://library.example/pin"},
				Defaults:          host.Defaults{Format: "epub", Days: 14},
				AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
			}}
		},
		walk: func(ctx context.Context, w *walker, d *distributor) { walkODL(ctx, w, d, sim) },
	}
}

func walkODL(ctx context.Context, w *walker, d *distributor, sim *odlsim.Sim) {
	loans := "/v1/providers/" + odlLibrary + "/loans"
	body := map[string]any{"item": odlsim.ISBNAvailable, "patron": "patron-42"}
	key := "sandbox-odl-" + w.run
	r := w.step(ctx, "checkout (borrow link, 201 with an LSD)", req{method: "POST", path: loans, body: body,
		headers: map[string]string{"Idempotency-Key": key}}, want{status: 201})
	var loan host.Loan
	r.decode(&loan)
	sl, _ := sim.Loan(loan.ID)
	w.check("the distributor saw the loan id as checkout_id, a pseudonym", sl.CheckoutID == loan.ID && sl.Patron != "" && sl.Patron != "patron-42", "patron_id "+sl.Patron)
	w.check("the loan links its LCP licence", len(loan.Links) == 1 && strings.HasSuffix(loan.Links[0].Href, "/license"), fmt.Sprintf("%d links", len(loan.Links)))
	w.step(ctx, "checkout retried with its Idempotency-Key", req{method: "POST", path: loans, body: body,
		headers: map[string]string{"Idempotency-Key": key}}, want{status: 200})
	w.step(ctx, "fulfillment (the LSD read afresh)", req{method: "POST", path: loanPath(odlLibrary, loan.ID) + "/fulfillment"}, want{status: 200})
	r = w.step(ctx, "renewal by 7 days (renew link, PUT)", req{method: "POST", path: loanPath(odlLibrary, loan.ID) + "/renewal", body: map[string]any{"days": 7}}, want{status: 200})
	var renewed host.Loan
	r.decode(&renewed)
	w.check("the loan ends 7 days later", renewed.ExpiresAt != nil && loan.ExpiresAt != nil && renewed.ExpiresAt.Sub(*loan.ExpiresAt) == 7*24*time.Hour, fmt.Sprint(renewed.ExpiresAt))
	r = w.step(ctx, "return by the library (return link, PUT)", req{method: "DELETE", path: loanPath(odlLibrary, loan.ID)}, want{status: 200})
	var returned host.Loan
	r.decode(&returned)
	w.check("returned here and at the distributor", returned.Status == "returned" && sim.Returned(loan.ID), "status "+returned.Status)

	r = w.step(ctx, "checkout of an audiobook", req{method: "POST", path: loans, body: map[string]any{"item": odlsim.ISBNAudiobook, "patron": "patron-42", "format": "audiobook"}}, want{status: 201})
	var audio host.Loan
	r.decode(&audio)
	w.check("licence and manifest links", len(audio.Links) == 2 && audio.Links[1].Rel == "manifest", fmt.Sprintf("%d links", len(audio.Links)))
	err := sim.Revoke(audio.ID)
	w.check("the distributor revokes it and notifies", err == nil, "POST notification_url {\"id\",\"status\":\"revoked\"}")
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = sim.Wait(wctx, func() bool {
		for _, dl := range sim.Deliveries() {
			if dl.CheckoutID == audio.ID && dl.Status == "revoked" {
				return dl.Done
			}
		}
		return false
	})
	cancel()
	r = w.step(ctx, "loan after the notification", req{method: "GET", path: loanPath(odlLibrary, audio.ID)}, want{status: 200})
	var after host.Loan
	r.decode(&after)
	w.check("loan is revoked", err == nil && after.Status == "revoked", "status "+after.Status)

	// Error families.
	w.step(ctx, "publication not in the feed", req{method: "POST", path: loans, body: map[string]any{"item": odlsim.ISBNUnknown, "patron": "patron-42"}}, want{status: 404, code: "item_not_found"})
	w.step(ctx, "every checkout of the licence used", req{method: "POST", path: loans, body: map[string]any{"item": odlsim.ISBNExhausted, "patron": "patron-42"}}, want{status: 409, code: "not_available"})
	w.step(ctx, "LCP licence without a passphrase option", req{method: "POST", path: loans, body: map[string]any{"item": odlsim.ISBNLCP, "patron": "patron-42"}}, want{status: 400, code: "invalid_request"})
	r = w.step(ctx, "checkout of a title renewed by hand only", req{method: "POST", path: loans, body: map[string]any{"item": odlsim.ISBNNoRenew, "patron": "patron-42"}}, want{status: 201})
	var byHand host.Loan
	r.decode(&byHand)
	w.step(ctx, "its renewal (a page for people)", req{method: "POST", path: loanPath(odlLibrary, byHand.ID) + "/renewal", body: map[string]any{"days": 7}}, want{status: 501, code: "unsupported_operation"})
	sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: 401})
	w.step(ctx, "the distributor refuses our credentials", req{method: "POST", path: loans, body: body}, want{status: 502, code: "provider_credentials"})
	sim.SetFaults(odlsim.Faults{})
}
