package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

func demarque() *distributor {
	sim := demarquesim.New()
	return &distributor{
		name: "De Marque digital warehouse", plugin: "demarque", sim: sim,
		providers: func(simURL string) map[string]host.ProviderConfig {
			return map[string]host.ProviderConfig{"demarque-mtl": {
				Plugin: "demarque",
				Settings: map[string]string{"base_url": simURL, "organisation_id": demarquesim.DefaultOrganisation,
					"username": demarquesim.DefaultUsername, "password": demarquesim.DefaultPassword},
				Defaults:          host.Defaults{Format: "epub", Days: 21},
				AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
			}}
		},
		walk: func(ctx context.Context, w *walker, d *distributor) { walkDemarque(ctx, w, d, sim) },
	}
}

func walkDemarque(ctx context.Context, w *walker, d *distributor, sim *demarquesim.Sim) {
	const p = "demarque-mtl"
	loanURL := sim.LoanURL(d.simURL, demarquesim.ISBNAvailable)
	body := map[string]any{"item": demarquesim.ISBNAvailable, "patron": "patron-42", "patron_name": "Jane Doe",
		"options": map[string]string{"loan_url": loanURL}}
	// A key of this run: with -db the journal remembers the last run's.
	key := "sandbox-dm-" + w.run
	r := w.step(ctx, "checkout", req{method: "POST", path: "/v1/providers/" + p + "/loans", body: body,
		headers: map[string]string{"Idempotency-Key": key}}, want{status: 201})
	var loan host.Loan
	r.decode(&loan)
	w.step(ctx, "checkout retried with its Idempotency-Key", req{method: "POST", path: "/v1/providers/" + p + "/loans", body: body,
		headers: map[string]string{"Idempotency-Key": key}}, want{status: 200})
	w.check("the warehouse saw one loan, under a pseudonym", len(sim.Loans()) == 1 && sim.Loans()[0].Borrower != "patron-42", "borrower_id is an HMAC of the patron id")
	w.step(ctx, "loan", req{method: "GET", path: loanPath(p, loan.ID)}, want{status: 200})
	w.step(ctx, "patron's loans", req{method: "GET", path: "/v1/providers/" + p + "/loans?patron=patron-42"}, want{status: 200})
	r = w.step(ctx, "fulfillment (regenerated link)", req{method: "POST", path: loanPath(p, loan.ID) + "/fulfillment"}, want{status: 200})
	var f host.Fulfillment
	r.decode(&f)
	if u, err := url.Parse(f.Redirect); err == nil {
		r = w.step(ctx, "browser redirect (signed, no API key)", req{method: "GET", path: u.RequestURI(), noAuth: true}, want{status: 303})
		w.check("redirect goes to a fresh link", strings.HasPrefix(r.header.Get("Location"), d.simURL+"/content/"), r.header.Get("Location"))
		tampered := strings.Replace(u.RequestURI(), "sig=", "sig=x", 1)
		w.step(ctx, "redirect with a tampered signature", req{method: "GET", path: tampered, noAuth: true}, want{status: 403, code: "forbidden"})
	}
	w.step(ctx, "download of a purchase (one-minute link)", req{method: "POST", path: "/v1/providers/" + p + "/downloads",
		body: map[string]any{"customer": "cust-7", "transaction": "order-7", "item": demarquesim.ISBNAvailable, "format": "epub", "patron_name": "Jane Doe"}}, want{status: 200})
	w.step(ctx, "renewal (not offered)", req{method: "POST", path: loanPath(p, loan.ID) + "/renewal", body: map[string]any{"days": 7}}, want{status: 501, code: "unsupported_operation"})
	err := sim.Return(ctx, loan.ID)
	w.check("the reader returns early: the warehouse notifies", err == nil, "POST notify_url {\"type\":\"return\"}")
	r = w.step(ctx, "loan after the notification", req{method: "GET", path: loanPath(p, loan.ID)}, want{status: 200})
	var after host.Loan
	r.decode(&after)
	w.check("loan is returned", after.Status == "returned", "status "+after.Status)

	// Error families.
	w.step(ctx, "ISBN with a wrong check digit", req{method: "POST", path: "/v1/providers/" + p + "/loans",
		body: map[string]any{"item": "9789084999812", "patron": "patron-42", "options": map[string]string{"loan_url": loanURL}}}, want{status: 400, code: "invalid_request"})
	w.step(ctx, "unknown field", req{method: "POST", path: "/v1/providers/" + p + "/loans",
		body: `{"item":"9789084999813","patron":"patron-42","colour":"red"}`}, want{status: 400, code: "invalid_request"})
	w.step(ctx, "patron id with bad characters", req{method: "POST", path: "/v1/providers/" + p + "/loans",
		body: map[string]any{"item": demarquesim.ISBNAvailable, "patron": "jane doe;", "options": map[string]string{"loan_url": loanURL}}}, want{status: 400, code: "invalid_request"})
	w.step(ctx, "publication not in the warehouse", req{method: "POST", path: "/v1/providers/" + p + "/loans",
		body: map[string]any{"item": demarquesim.ISBNUnknown, "patron": "patron-42", "options": map[string]string{"loan_url": sim.LoanURL(d.simURL, demarquesim.ISBNUnknown)}}}, want{status: 404, code: "item_not_found"})
	w.step(ctx, "no API key", req{method: "GET", path: "/v1/providers", noAuth: true}, want{status: 401, code: "unauthorized"})
	w.step(ctx, "unknown provider", req{method: "GET", path: "/v1/providers/nope"}, want{status: 404, code: "provider_not_found"})
	w.step(ctx, "unknown loan", req{method: "GET", path: loanPath(p, "ln_nope")}, want{status: 404, code: "loan_not_found"})
	w.step(ctx, "unknown notification token", req{method: "POST", path: "/v1/notifications/" + p + "/forged.token", body: `{"type":"return"}`, noAuth: true}, want{status: 404, code: "loan_not_found"})
	sim.SetFaults(demarquesim.Faults{Status: 401})
	w.step(ctx, "the warehouse refuses our credentials", req{method: "POST", path: "/v1/providers/" + p + "/downloads",
		body: map[string]any{"customer": "cust-7", "transaction": "order-7", "item": demarquesim.ISBNAvailable, "format": "epub", "patron_name": "Jane Doe"}}, want{status: 502, code: "provider_credentials"})
	sim.SetFaults(demarquesim.Faults{Status: 503})
	w.step(ctx, "the warehouse fails", req{method: "POST", path: "/v1/providers/" + p + "/loans", body: body}, want{status: 502, code: "provider_error"})
	sim.SetFaults(demarquesim.Faults{})
}
