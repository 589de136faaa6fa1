package main

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

const ehubAxiell = "ehub-axiell"

func ehub() *distributor {
	sim := ehubsim.New()
	return &distributor{
		name: "Axiell eHUB", plugin: "ehub", sim: sim,
		providers: func(simURL string) map[string]host.ProviderConfig {
			return map[string]host.ProviderConfig{ehubAxiell: {
				Plugin:            "ehub",
				Settings:          map[string]string{"base_url": simURL, "api_key": ehubsim.DefaultAPIKey},
				AllowInsecureHTTP: true, // the simulator speaks plain http on loopback
			}}
		},
		walk: func(ctx context.Context, w *walker, d *distributor) { walkEHub(ctx, w, sim) },
	}
}

func walkEHub(ctx context.Context, w *walker, sim *ehubsim.Sim) {
	loans := "/v1/providers/" + ehubAxiell + "/loans"
	record := func(id string) map[string]any { return map[string]any{"item": id, "patron": "patron-42"} }
	r := w.step(ctx, "checkout, every format", req{method: "POST", path: loans, body: record(ehubsim.RecordMultiFormat)}, want{status: 201})
	var loan host.Loan
	r.decode(&loan)
	w.check("links in 3 formats", len(formatsOf(loan.Links)) == 3, strings.Join(formatsOf(loan.Links), ", "))
	c, _ := sim.Lookup(loan.ProviderRef["checkout_id"])
	w.check("eHUB saw a pseudonym as X-Patron-Id", c.Patron != "" && c.Patron != "patron-42", "X-Patron-Id "+c.Patron)

	r = w.step(ctx, "fulfillment (asks eHUB afresh)", req{method: "POST", path: loanPath(ehubAxiell, loan.ID) + "/fulfillment"}, want{status: 200})
	var f host.Fulfillment
	r.decode(&f)
	w.check("fresh links in 3 formats", len(formatsOf(f.Links)) == 3, fmt.Sprintf("%d links", len(f.Links)))
	r = w.step(ctx, "checkout, ebook only", req{method: "POST", path: loans,
		body: map[string]any{"item": ehubsim.RecordEbook, "patron": "patron-42", "format": "ebook"}}, want{status: 201})
	var ebook host.Loan
	r.decode(&ebook)
	r = w.step(ctx, "fulfillment of the ebook", req{method: "POST", path: loanPath(ehubAxiell, ebook.ID) + "/fulfillment"}, want{status: 200})
	f = host.Fulfillment{}
	r.decode(&f)
	if u, err := url.Parse(f.Redirect); err == nil {
		r = w.step(ctx, "browser redirect (signed, no API key)", req{method: "GET", path: u.RequestURI(), noAuth: true}, want{status: 303})
		w.check("redirect goes to eHUB's link", strings.HasPrefix(r.header.Get("Location"), "https://"), r.header.Get("Location"))
	}
	w.step(ctx, "renewal (not offered)", req{method: "POST", path: loanPath(ehubAxiell, loan.ID) + "/renewal", body: map[string]any{"days": 7}}, want{status: 501, code: "unsupported_operation"})
	w.step(ctx, "return (not offered)", req{method: "DELETE", path: loanPath(ehubAxiell, loan.ID)}, want{status: 501, code: "unsupported_operation"})

	// eHUB's error table, one request per family.
	w.step(ctx, "same record again (ALREADY_ON_LOAN)", req{method: "POST", path: loans, body: record(ehubsim.RecordMultiFormat)}, want{status: 409, code: "already_on_loan"})
	w.step(ctx, "unknown record", req{method: "POST", path: loans, body: record(ehubsim.RecordUnknown)}, want{status: 404, code: "item_not_found"})
	w.step(ctx, "product inactive", req{method: "POST", path: loans, body: record(ehubsim.RecordInactive)}, want{status: 409, code: "not_available"})
	w.step(ctx, "borrower limit", req{method: "POST", path: loans, body: record(ehubsim.RecordBorrowerLimit)}, want{status: 409, code: "limit_reached"})
	w.step(ctx, "format the record lacks", req{method: "POST", path: loans,
		body: map[string]any{"item": ehubsim.RecordEbook, "patron": "patron-43", "format": "audio-stream"}}, want{status: 400, code: "invalid_request"})
	w.step(ctx, "eHUB fails (CREATE_LOAN_FAILED)", req{method: "POST", path: loans, body: record(ehubsim.RecordCreateLoanFailed)}, want{status: 502, code: "provider_error"})
}

// formatsOf lists the formats links are in, sorted.
func formatsOf(links []host.Link) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range links {
		if !seen[l.Format] {
			seen[l.Format] = true
			out = append(out, l.Format)
		}
	}
	sort.Strings(out)
	return out
}
