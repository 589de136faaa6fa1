package main

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
)

func TestDescribe(t *testing.T) {
	p, _ := newTestProvider()
	info, err := p.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "cb" || info.Version != version || version != "1.0.0" {
		t.Fatalf("info %+v", info)
	}
	for _, c := range []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapRenew, sdk.CapAccessCheck} {
		if !info.Has(c) {
			t.Errorf("missing capability %s", c)
		}
	}
	if info.Has(sdk.CapReturn) || !slices.Equal(info.Formats, []string{"epub", "pdf"}) ||
		!slices.Equal(info.Options["reading_method"], []string{"D", "CR"}) ||
		!slices.Equal(info.Options["protection"], []string{"00", "02", "03"}) {
		t.Fatalf("info %+v", info)
	}
}

func TestConfigure(t *testing.T) {
	ok := settings("http://127.0.0.1:1")
	tests := []struct {
		name   string
		change map[string]string
		key    string
	}{
		{"no base_url", map[string]string{settingBaseURL: ""}, "base_url"},
		{"no username", map[string]string{settingUsername: ""}, "username"},
		{"no password", map[string]string{settingPassword: ""}, "password"},
		{"plain http refused", map[string]string{sdk.SettingAllowInsecureHTTP: ""}, "base_url"},
		{"not a URL", map[string]string{settingBaseURL: "cb.example/rest"}, "base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestProvider()
			s := maps.Clone(ok)
			maps.Copy(s, tt.change)
			err := p.Configure(context.Background(), "cb-test", s)
			e := wantCode(t, err, sdk.CodeInvalidRequest, "")
			if !strings.Contains(e.Message, `"`+tt.key+`"`) || strings.Contains(e.Message, testPassword) {
				t.Fatalf("message %q should name %s", e.Message, tt.key)
			}
			wantCode(t, p.Health(context.Background(), "cb-test"), sdk.CodeProviderCredentials, "")
		})
	}
	p, _ := newTestProvider()
	https := maps.Clone(ok)
	delete(https, sdk.SettingAllowInsecureHTTP)
	https[settingBaseURL] = "https://cb.example" + cbsim.BasePath + "/"
	if err := p.Configure(context.Background(), "cb-live", https); err != nil {
		t.Fatalf("https: %v", err)
	}
	if err := p.Health(context.Background(), "cb-live"); err != nil {
		t.Fatalf("health: %v", err)
	}
}

func TestUnknownInstance(t *testing.T) {
	f := setup(t)
	ctx := f.ctx
	r := checkout(cbsim.EANAvailable, "loan-1", "p1")
	r.Instance = "other"
	_, err := f.p.Checkout(ctx, r)
	wantCode(t, err, sdk.CodeProviderCredentials, "")
	_, err = f.p.Renew(ctx, sdk.RenewRequest{Instance: "other", Days: 7})
	wantCode(t, err, sdk.CodeProviderCredentials, "")
	_, err = f.p.Fulfill(ctx, sdk.FulfillRequest{Instance: "other"})
	wantCode(t, err, sdk.CodeProviderCredentials, "")
	_, err = f.p.CheckAccess(ctx, sdk.AccessRequest{Instance: "other"})
	wantCode(t, err, sdk.CodeProviderCredentials, "")
	wantCode(t, f.p.Health(ctx, "other"), sdk.CodeProviderCredentials, "")
	if err := f.p.Health(ctx, "cb-test"); err != nil {
		t.Fatalf("health: %v", err)
	}
	if f.sim.Calls() != 0 {
		t.Fatalf("%d calls upstream", f.sim.Calls())
	}
}

func TestCheckout(t *testing.T) {
	f := setup(t)
	loan, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "loan-1", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := f.sim.Order("loan-1")
	if !ok {
		t.Fatal("no order placed")
	}
	// Defaults: download with watermark, 21 days, epub.
	if o.EAN != cbsim.EANAvailable || o.UserID != "p1" || o.ReadingMethod != "D" || o.Protection != "02" || o.Units != 21 {
		t.Fatalf("order %+v", o)
	}
	want := map[string]string{
		"cb_order_reference": o.CbOrderReference,
		"order_reference":    "loan-1",
		"url":                o.URL,
		"user_id":            "p1",
		"reading_method":     "D",
		"protection":         "02",
	}
	if !maps.Equal(loan.ProviderRef, want) {
		t.Fatalf("provider ref %v, want %v", loan.ProviderRef, want)
	}
	if loan.Format != "epub" || !loan.ExpiresAt.Equal(testNow.Add(21*24*time.Hour)) ||
		len(loan.Links) != 1 || loan.Links[0] != (sdk.Link{Format: "epub", Rel: "content", Href: o.URL}) {
		t.Fatalf("loan %+v", loan)
	}

	r := checkout(cbsim.EANAvailable2, "loan-2", "p1")
	r.Format, r.Days, r.Options = "pdf", 7, map[string]string{"reading_method": "CR", "protection": "02"}
	loan, err = f.p.Checkout(f.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	o, _ = f.sim.Order("loan-2")
	if o.ReadingMethod != "CR" || o.Units != 7 || loan.Format != "pdf" || loan.Links[0].Format != "pdf" ||
		!loan.ExpiresAt.Equal(testNow.Add(7*24*time.Hour)) || loan.ProviderRef["reading_method"] != "CR" {
		t.Fatalf("order %+v, loan %+v", o, loan)
	}
}

func TestRefusedLocallyWithoutCallingCB(t *testing.T) {
	f := setup(t)
	opts := func(rm, prot string) map[string]string {
		return map[string]string{"reading_method": rm, "protection": prot}
	}
	tests := []struct {
		name   string
		change func(*sdk.CheckoutRequest)
		code   sdk.Code
	}{
		{"D+00", func(r *sdk.CheckoutRequest) { r.Options = opts("D", "00") }, sdk.CodeUnsupportedCombination},
		{"CR+00", func(r *sdk.CheckoutRequest) { r.Options = opts("CR", "00") }, sdk.CodeUnsupportedCombination},
		{"CR+03", func(r *sdk.CheckoutRequest) { r.Options = opts("CR", "03") }, sdk.CodeUnsupportedCombination},
		{"default D with 00", func(r *sdk.CheckoutRequest) { r.Options = opts("", "00") }, sdk.CodeUnsupportedCombination},
		{"unknown reading method", func(r *sdk.CheckoutRequest) { r.Options = opts("X", "02") }, sdk.CodeInvalidRequest},
		{"unknown protection", func(r *sdk.CheckoutRequest) { r.Options = opts("D", "01") }, sdk.CodeInvalidRequest},
		{"days 22", func(r *sdk.CheckoutRequest) { r.Days = 22 }, sdk.CodeInvalidRequest},
		{"days -1", func(r *sdk.CheckoutRequest) { r.Days = -1 }, sdk.CodeInvalidRequest},
		{"check digit", func(r *sdk.CheckoutRequest) { r.Item = "9999999999999" }, sdk.CodeInvalidRequest},
		{"ISBN-10", func(r *sdk.CheckoutRequest) { r.Item = "9084999810" }, sdk.CodeInvalidRequest},
		{"loan id too long", func(r *sdk.CheckoutRequest) { r.LoanID = strings.Repeat("l", 101) }, sdk.CodeInvalidRequest},
		{"no loan id", func(r *sdk.CheckoutRequest) { r.LoanID = "" }, sdk.CodeInvalidRequest},
		{"no patron", func(r *sdk.CheckoutRequest) { r.Patron = "" }, sdk.CodeInvalidRequest},
		{"format", func(r *sdk.CheckoutRequest) { r.Format = "mobi" }, sdk.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkout(cbsim.EANAvailable, "loan-1", "p1")
			tt.change(&r)
			_, err := f.p.Checkout(f.ctx, r)
			wantCode(t, err, tt.code, "")
		})
	}
	loan := sdk.LoanRef{Item: cbsim.EANAvailable, Patron: "p1", ProviderRef: map[string]string{"cb_order_reference": "1669231"}}
	for _, days := range []int{0, -3, 22} {
		_, err := f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: loan, Days: days, RenewalID: "ren"})
		wantCode(t, err, sdk.CodeInvalidRequest, "")
	}
	bad := loan
	bad.ProviderRef = map[string]string{"cb_order_reference": "1669231", "reading_method": "CR", "protection": "03"}
	_, err := f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: bad, Days: 7, RenewalID: "ren"})
	wantCode(t, err, sdk.CodeUnsupportedCombination, "")
	_, err = f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: sdk.LoanRef{Item: cbsim.EANAvailable, Patron: "p1"}, Days: 7, RenewalID: "ren"})
	wantCode(t, err, sdk.CodeLoanNotFound, "")

	if n := f.sim.Calls(); n != 0 {
		t.Fatalf("%d calls reached CB", n)
	}
}

func TestRenewIsAnAddition(t *testing.T) {
	f := setup(t)
	r := checkout(cbsim.EANAvailable, "loan-1", "p1")
	r.Options = map[string]string{"reading_method": "CR", "protection": "02"}
	loan, err := f.p.Checkout(f.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := f.sim.Order("loan-1")
	ref := sdk.LoanRef{ID: "loan-1", Item: cbsim.EANAvailable, Patron: "p1", Format: loan.Format, ExpiresAt: loan.ExpiresAt, ProviderRef: loan.ProviderRef}

	renewed, err := f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: ref, Days: 7, RenewalID: "ren-1"})
	if err != nil {
		t.Fatal(err)
	}
	add, ok := f.sim.Order("ren-1")
	if !ok || add.AdditionTo != first.CbOrderReference || add.UserID != "p1" || add.Units != 7 ||
		add.ReadingMethod != "CR" || add.Protection != "02" || add.EAN != cbsim.EANAvailable {
		t.Fatalf("addition %+v (first %+v)", add, first)
	}
	if len(f.sim.Orders()) != 2 {
		t.Fatalf("orders %+v", f.sim.Orders())
	}
	pr := renewed.ProviderRef
	if pr["cb_order_reference"] != first.CbOrderReference || pr["order_reference"] != "loan-1" ||
		pr["last_order_reference"] != "ren-1" || pr["last_cb_order_reference"] != add.CbOrderReference ||
		pr["url"] != add.URL || pr["user_id"] != "p1" || pr["reading_method"] != "CR" {
		t.Fatalf("provider ref %v", pr)
	}
	if !renewed.ExpiresAt.Equal(loan.ExpiresAt.Add(7*24*time.Hour)) || renewed.Links[0].Href != add.URL {
		t.Fatalf("renewed %+v", renewed)
	}

	// A second renewal still adds to the first order; options can come from
	// the loan when the provider ref lacks them; a loan without expiry
	// counts from now.
	ref.ProviderRef = map[string]string{"cb_order_reference": first.CbOrderReference}
	ref.Options = map[string]string{"reading_method": "CR", "protection": "02"}
	ref.ExpiresAt = time.Time{}
	renewed, err = f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: ref, Days: 3, RenewalID: "ren-2"})
	if err != nil {
		t.Fatal(err)
	}
	if add, _ := f.sim.Order("ren-2"); add.AdditionTo != first.CbOrderReference || add.ReadingMethod != "CR" {
		t.Fatalf("second addition %+v", add)
	}
	if !renewed.ExpiresAt.Equal(testNow.Add(3 * 24 * time.Hour)) {
		t.Fatalf("expires %v", renewed.ExpiresAt)
	}

	// The same renewal id twice is CB's duplicate reference.
	_, err = f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: ref, Days: 3, RenewalID: "ren-2"})
	wantCode(t, err, sdk.CodeDuplicateReference, "EBS-10005")

	// Another patron's loan.
	other := ref
	other.Patron = "p2"
	_, err = f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: other, Days: 3, RenewalID: "ren-3"})
	wantCode(t, err, sdk.CodePatronMismatch, "EBS-10054")

	// An order CB does not know.
	unknown := ref
	unknown.ProviderRef = map[string]string{"cb_order_reference": "999"}
	_, err = f.p.Renew(f.ctx, sdk.RenewRequest{Instance: "cb-test", Loan: unknown, Days: 3, RenewalID: "ren-4"})
	wantCode(t, err, sdk.CodeLoanNotFound, "EBS-10053")
}

func TestFulfill(t *testing.T) {
	f := setup(t)
	loan, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "loan-1", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	calls := f.sim.Calls()
	ref := sdk.LoanRef{ID: "loan-1", Item: cbsim.EANAvailable, Patron: "p1", Format: "epub", ProviderRef: loan.ProviderRef}
	got, err := f.p.Fulfill(f.ctx, sdk.FulfillRequest{Instance: "cb-test", Loan: ref})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Links) != 1 || got.Links[0] != (sdk.Link{Format: "epub", Rel: "content", Href: loan.ProviderRef["url"]}) {
		t.Fatalf("fulfillment %+v", got)
	}
	_, err = f.p.Fulfill(f.ctx, sdk.FulfillRequest{Instance: "cb-test", Loan: ref, Format: "pdf"})
	wantCode(t, err, sdk.CodeNotAvailable, "")
	ref.ProviderRef = nil
	_, err = f.p.Fulfill(f.ctx, sdk.FulfillRequest{Instance: "cb-test", Loan: ref})
	wantCode(t, err, sdk.CodeLoanNotFound, "")
	if f.sim.Calls() != calls {
		t.Fatal("fulfillment called CB")
	}
}
