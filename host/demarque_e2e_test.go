package host_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

// demarqueEnv is a host with the real De Marque plugin in front of its
// simulator.
type demarqueEnv struct {
	*env
	sim    *demarquesim.Sim
	simURL string
}

func startDemarque(t *testing.T) *demarqueEnv {
	t.Helper()
	return startDemarqueWith(t, nil)
}

// startDemarqueWith lets a test change the instance's config.
func startDemarqueWith(t *testing.T, edit func(*host.ProviderConfig)) *demarqueEnv {
	t.Helper()
	return startDemarqueHost(t, func(cfg *host.Config) {
		if edit != nil {
			pc := cfg.Providers["demarque-mtl"]
			edit(&pc)
			cfg.Providers["demarque-mtl"] = pc
		}
	})
}

// startDemarqueHost is a host with the real De Marque plugin in front of its
// simulator, as the instance "demarque-mtl", on a memory journal, after edit
// has changed its config.
func startDemarqueHost(t *testing.T, edit func(*host.Config)) *demarqueEnv {
	t.Helper()
	sim := demarquesim.New()
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	cfg := pluginConfig(t, "demarque", map[string]host.ProviderConfig{"demarque-mtl": {
		Plugin: "demarque",
		Settings: map[string]string{"base_url": simSrv.URL, "organisation_id": demarquesim.DefaultOrganisation,
			"username": demarquesim.DefaultUsername, "password": demarquesim.DefaultPassword},
		Defaults:          host.Defaults{Format: "epub", Days: 21},
		AllowInsecureHTTP: true,
	}})
	edit(&cfg)
	return &demarqueEnv{env: start(t, cfg), sim: sim, simURL: simSrv.URL}
}

func (d *demarqueEnv) loanBody(patron string) map[string]any {
	return map[string]any{"item": demarquesim.ISBNAvailable, "patron": patron, "patron_name": "Jane Doe",
		"options": map[string]string{"loan_url": d.sim.LoanURL(d.simURL, demarquesim.ISBNAvailable)}}
}

func TestDemarqueEndToEnd(t *testing.T) {
	d := startDemarque(t)
	l := checkout(d.env, "demarque-mtl", d.loanBody("patron-42"))
	if len(l.Links) != 1 || !strings.HasPrefix(l.Links[0].Href, d.simURL+"/content/") || l.ExpiresAt == nil {
		t.Fatalf("loan %+v", l)
	}
	simLoan, ok := d.sim.Loan(l.ID)
	if !ok {
		t.Fatalf("the simulator has no loan with transaction %s", l.ID)
	}
	if simLoan.Borrower == "patron-42" || len(simLoan.Borrower) != 32 {
		t.Errorf("the distributor saw borrower %q, want the 32-hex pseudonym", simLoan.Borrower)
	}

	// Fulfillment regenerates the link; the redirect answers 303 to a fresh one.
	var f host.Fulfillment
	r := d.do("POST", "/v1/providers/demarque-mtl/loans/"+l.ID+"/fulfillment", nil)
	r.json(t, &f)
	if r.status != 200 || len(f.Links) != 1 {
		t.Fatalf("fulfillment %d %s", r.status, r.body)
	}
	u, _ := url.Parse(f.Redirect)
	r = d.do("GET", u.RequestURI(), nil, "Authorization", "")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), d.simURL+"/content/") {
		t.Fatalf("content redirect %d %q", r.status, r.header.Get("Location"))
	}
	if got, err := http.Get(r.header.Get("Location")); err != nil || got.StatusCode != 200 {
		t.Errorf("the redirect's target does not serve: %v", err)
	}

	// A purchased download.
	r = d.do("POST", "/v1/providers/demarque-mtl/downloads", map[string]any{"customer": "cust-1", "transaction": "tx-9",
		"item": demarquesim.ISBNAvailable, "format": "epub", "patron_name": "Jane Doe"})
	var dl host.Fulfillment
	r.json(t, &dl)
	if r.status != 200 || len(dl.Links) != 1 || dl.Links[0].ExpiresAt == nil || !strings.HasPrefix(dl.Links[0].Href, d.simURL+"/dl/") {
		t.Fatalf("download %d %s", r.status, r.body)
	}

	// Renewal and return are not offered.
	d.expectProblem(d.do("POST", "/v1/providers/demarque-mtl/loans/"+l.ID+"/renewal", map[string]any{"days": 3}), 501, "unsupported_operation")
	d.expectProblem(d.do("DELETE", "/v1/providers/demarque-mtl/loans/"+l.ID, nil), 501, "unsupported_operation")

	// The reader returns early: the warehouse notifies, the loan is returned.
	if err := d.sim.Return(context.Background(), l.ID); err != nil {
		t.Fatalf("simulated return: %v", err)
	}
	got, _ := d.h.Loan(context.Background(), "demarque-mtl", l.ID)
	if got.Status != "returned" {
		t.Fatalf("loan status %q after the warehouse's notification", got.Status)
	}
	n := d.eventCount()
	if err := d.sim.Return(context.Background(), l.ID); err != nil { // delivered twice
		t.Fatalf("second delivery: %v", err)
	}
	if d.eventCount() != n {
		t.Errorf("the same notification twice appended twice")
	}
	var page host.EventPage
	d.do("GET", "/v1/events", nil).json(t, &page)
	if len(page.Events) != 2 || page.Events[1].Type != "loan.returned" || page.Events[1].Data["transaction"] != l.ID {
		t.Errorf("events %+v", page.Events)
	}
}

func TestDemarqueErrors(t *testing.T) {
	d := startDemarque(t)
	dl := map[string]any{"customer": "cust-1", "transaction": "tx-9", "item": demarquesim.ISBNAvailable, "format": "epub", "patron_name": "Jane"}
	tests := []struct {
		name     string
		faults   demarquesim.Faults
		path     string
		body     any
		status   int
		code     string
		provCode string
	}{
		{"credentials refused", demarquesim.Faults{Status: 401}, "/v1/providers/demarque-mtl/downloads", dl, 502, "provider_credentials", "access_denied"},
		{"organisation unknown", demarquesim.Faults{Status: 404, Code: "not_found"}, "/v1/providers/demarque-mtl/downloads", dl, 502, "provider_credentials", "not_found"},
		{"missing transaction", demarquesim.Faults{Status: 400, Code: "missing_transaction_id"}, "/v1/providers/demarque-mtl/loans", d.loanBody("p1"), 400, "invalid_request", "missing_transaction_id"},
		{"server error", demarquesim.Faults{Status: 500}, "/v1/providers/demarque-mtl/loans", d.loanBody("p1"), 502, "provider_error", ""},
		{"garbage answer", demarquesim.Faults{Garbage: true}, "/v1/providers/demarque-mtl/loans", d.loanBody("p1"), 502, "provider_error", ""},
		{"dropped connection", demarquesim.Faults{Drop: true}, "/v1/providers/demarque-mtl/loans", d.loanBody("p1"), 502, "provider_error", ""},
		{"no loan_url", demarquesim.Faults{}, "/v1/providers/demarque-mtl/loans", map[string]any{"item": demarquesim.ISBNAvailable, "patron": "p1"}, 400, "invalid_request", ""},
		{"days beyond 59", demarquesim.Faults{}, "/v1/providers/demarque-mtl/loans", mergeBody(d.loanBody("p1"), "days", 60), 400, "invalid_request", ""},
		{"unknown publication", demarquesim.Faults{}, "/v1/providers/demarque-mtl/loans", map[string]any{"item": demarquesim.ISBNUnknown, "patron": "p1",
			"options": map[string]string{"loan_url": d.sim.LoanURL(d.simURL, demarquesim.ISBNUnknown)}}, 404, "item_not_found", "publication_not_found"},
		{"bad customer", demarquesim.Faults{}, "/v1/providers/demarque-mtl/downloads", mergeBody(dl, "customer", "a b"), 400, "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.t = t
			d.sim.SetFaults(tt.faults)
			defer d.sim.SetFaults(demarquesim.Faults{})
			p := d.expectProblem(d.do("POST", tt.path, tt.body), tt.status, tt.code)
			if tt.provCode != "" && p.ProviderCode != tt.provCode {
				t.Errorf("provider_code %q, want %q", p.ProviderCode, tt.provCode)
			}
			if p.Provider != "demarque-mtl" {
				t.Errorf("provider %q", p.Provider)
			}
		})
	}
	d.t = t
	if n := d.eventCount(); n != 0 {
		t.Errorf("failed calls appended %d events", n)
	}
}

func mergeBody(b map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range b {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// TestGoAndHTTPGiveTheSameAnswers makes the same calls through both surfaces.
func TestGoAndHTTPGiveTheSameAnswers(t *testing.T) {
	d := startDemarque(t)
	ctx := context.Background()
	loanURL := d.sim.LoanURL(d.simURL, demarquesim.ISBNAvailable)

	viaGo, err := d.h.Checkout(ctx, "demarque-mtl", host.CheckoutRequest{Item: demarquesim.ISBNAvailable, Patron: "p-go", PatronName: "Jane", Options: map[string]string{"loan_url": loanURL}})
	if err != nil {
		t.Fatal(err)
	}
	viaHTTP := checkout(d.env, "demarque-mtl", map[string]any{"item": demarquesim.ISBNAvailable, "patron": "p-http", "patron_name": "Jane", "options": map[string]string{"loan_url": loanURL}})
	norm := func(l host.Loan) host.Loan {
		// What differs by nature between two loans: ids, times, links.
		l.ID, l.Patron, l.ExpiresAt, l.Links, l.ProviderRef = "", "", nil, nil, nil
		l.CreatedAt = time.Time{}
		return l
	}
	if !reflect.DeepEqual(norm(viaGo), norm(viaHTTP)) || len(viaGo.Links) != len(viaHTTP.Links) {
		t.Errorf("checkout differs:\ngo   %+v\nhttp %+v", viaGo, viaHTTP)
	}

	// The same stored loan reads the same both ways.
	var httpLoan host.Loan
	d.do("GET", "/v1/providers/demarque-mtl/loans/"+viaGo.ID, nil).json(t, &httpLoan)
	goLoan, _ := d.h.Loan(ctx, "demarque-mtl", viaGo.ID)
	if a, b := mustJSON(t, goLoan), mustJSON(t, httpLoan); a != b {
		t.Errorf("loan differs:\ngo   %s\nhttp %s", a, b)
	}

	// Errors: the same code, status and provider code.
	_, goErr := d.h.Checkout(ctx, "demarque-mtl", host.CheckoutRequest{Item: "9789084999812", Patron: "p"})
	p := d.expectProblem(d.do("POST", "/v1/providers/demarque-mtl/loans", map[string]any{"item": "9789084999812", "patron": "p"}), 400, "invalid_request")
	if string(host.CodeOf(goErr)) != p.Code || host.CodeOf(goErr).Status() != p.Status {
		t.Errorf("go error %v, http problem %+v", goErr, p)
	}
	_, goErr = d.h.Renew(ctx, "demarque-mtl", viaGo.ID, host.RenewRequest{Days: 3})
	p = d.expectProblem(d.do("POST", "/v1/providers/demarque-mtl/loans/"+viaGo.ID+"/renewal", map[string]any{"days": 3}), 501, "unsupported_operation")
	if string(host.CodeOf(goErr)) != p.Code {
		t.Errorf("go error %v, http problem %+v", goErr, p)
	}
	goLoans, _ := d.h.PatronLoans(ctx, "demarque-mtl", "p-go")
	var httpLoans struct{ Loans []host.Loan }
	d.do("GET", "/v1/providers/demarque-mtl/loans?patron=p-go", nil).json(t, &httpLoans)
	if mustJSON(t, goLoans) != mustJSON(t, httpLoans.Loans) {
		t.Errorf("patron loans differ")
	}
	goProv, _ := d.h.Provider(ctx, "demarque-mtl")
	var httpProv host.Provider
	d.do("GET", "/v1/providers/demarque-mtl", nil).json(t, &httpProv)
	if mustJSON(t, goProv) != mustJSON(t, httpProv) {
		t.Errorf("provider differs:\n%s\n%s", mustJSON(t, goProv), mustJSON(t, httpProv))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
