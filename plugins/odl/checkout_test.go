package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestCheckout: the borrow link gets the licence id, the host's loan id as
// checkout_id, the pseudonym as patron_id, expires and the callback; the
// loan has the LSD's licence link and its reference.
func TestCheckout(t *testing.T) {
	e := newEnv(t)
	r, l := e.lend(t, "ln_1", odlsim.ISBNAvailable)
	got, ok := e.sim.Loan("ln_1")
	if !ok {
		t.Fatal("the simulator holds no loan ln_1")
	}
	wantEnd := start.Add(14 * 24 * time.Hour)
	if got.Patron != testPatron || got.LicenseID != odlsim.LicenseAvailable || got.NotificationURL != testNotify || !got.End.Equal(wantEnd) {
		t.Errorf("the distributor's loan %+v", got)
	}
	if !l.ExpiresAt.Equal(wantEnd) || l.Format != formatEPUB {
		t.Errorf("loan expires %s format %q, want %s epub", l.ExpiresAt, l.Format, wantEnd)
	}
	if len(l.Links) != 1 || l.Links[0].Rel != sdk.RelContent || l.Links[0].Type != sdk.MediaTypeLCPLicense || !strings.HasSuffix(l.Links[0].Href, "/loans/"+got.ID+"/license") {
		t.Errorf("links %+v", l.Links)
	}
	if l.ProviderRef[refLSD] != e.srv.URL+"/loans/"+got.ID+"/status" || l.ProviderRef[refLSDID] != got.ID ||
		l.ProviderRef[refLicence] != odlsim.LicenseAvailable || l.ProviderRef[refCheckout] != r.LoanID {
		t.Errorf("provider ref %v", l.ProviderRef)
	}
	posts := e.requestsTo(odlsim.EndpointCheckout)
	if len(posts) != 1 || posts[0].Auth != "basic" || posts[0].Query.Get("expires") != wantEnd.Format(time.RFC3339) {
		t.Errorf("checkout requests %+v", posts)
	}
	for _, q := range []string{"passphrase", "hint", "hint_url"} {
		if posts[0].Query.Has(q) {
			t.Errorf("%s sent to a template without it", q)
		}
	}
	// The feed was read once; a single licence's borrow link is POSTed
	// without reading its info document.
	if n, infos := e.sim.CallsTo(odlsim.EndpointFeed), e.sim.CallsTo(odlsim.EndpointInfo); n != 3 || infos != 0 {
		t.Errorf("%d feed page reads and %d info documents, want 3 and 0", n, infos)
	}
	e.lend(t, "ln_2", odlsim.ISBNAvailable)
	if n := e.sim.CallsTo(odlsim.EndpointFeed); n != 3 {
		t.Errorf("the second checkout read the feed again (%d pages)", n)
	}
}

// TestCheckoutExpires: the loan end asked for is capped by the licence's
// length and end; days 0 takes the default.
func TestCheckoutExpires(t *testing.T) {
	tests := []struct {
		item string
		days int
		want time.Time
	}{
		{odlsim.ISBNAvailable, 0, start.Add(defaultDays * 24 * time.Hour)},
		{odlsim.ISBNAvailable, 90, start.Add(60 * 24 * time.Hour)}, // length 60 days
		{odlsim.ISBNOneCopy, 30, start.Add(14 * 24 * time.Hour)},   // length 14 days
		{odlsim.ISBNUnlimited, 100, start.Add(100 * 24 * time.Hour)},
	}
	e := newEnv(t)
	for i, tt := range tests {
		r := e.checkout("ln_exp_"+string(rune('a'+i)), tt.item)
		r.Days = tt.days
		l, err := e.p.Checkout(context.Background(), r)
		if err != nil || !l.ExpiresAt.Equal(tt.want) {
			t.Errorf("%s for %d days: %v, expires %s, want %s", tt.item, tt.days, err, l.ExpiresAt, tt.want)
		}
	}
	// A licence ending sooner than the loan asked for.
	e.sim.AddLicense(odlsim.ISBNUnknown, odlsim.License{ID: "urn:uuid:short", Format: odlsim.TypeEPUB, Expires: start.Add(3 * 24 * time.Hour)})
	e.clock.Advance(rereadInterval)
	l, err := e.p.Checkout(context.Background(), e.checkout("ln_short", odlsim.ISBNUnknown))
	if err != nil || !l.ExpiresAt.Equal(start.Add(rereadInterval).Add(3*24*time.Hour-rereadInterval)) {
		t.Errorf("licence ending in 3 days: %v, expires %s", err, l.ExpiresAt)
	}
	// A template without expires: the end is the LCP licence's rights.end.
	l, err = e.p.Checkout(context.Background(), e.checkout("ln_open", odlsim.ItemUUID))
	if err != nil || !l.ExpiresAt.Equal(e.clock.Now().Add(odlsim.DefaultLoanLength)) {
		t.Errorf("template without expires: %v, expires %s", err, l.ExpiresAt)
	}
	if len(l.Links) != 2 || l.Links[1].Rel != sdk.RelContent || l.Links[1].Type != odlsim.TypeEPUB {
		t.Errorf("DRM-free loan's links %+v, want the licence and the publication", l.Links)
	}
}

// TestLicenceChoice: licences are spent time-limited first, then
// perpetual, time-and-count, count-limited, whatever the feed's order.
func TestLicenceChoice(t *testing.T) {
	e := newEnv(t)
	want := []string{odlsim.LicenseMultiTime, odlsim.LicenseMultiPerpetual, odlsim.LicenseMultiBoth, odlsim.LicenseMultiCount}
	for i, lic := range want {
		_, l := e.lend(t, "ln_multi_"+string(rune('a'+i)), odlsim.ISBNMulti)
		if l.ProviderRef[refLicence] != lic {
			t.Errorf("checkout %d went to %s, want %s", i+1, l.ProviderRef[refLicence], lic)
		}
	}
	// Every copy lent: not_available with no POST.
	posts := e.sim.CallsTo(odlsim.EndpointCheckout)
	_, err := e.p.Checkout(context.Background(), e.checkout("ln_multi_e", odlsim.ISBNMulti))
	wantError(t, err, sdk.CodeNotAvailable, "")
	if e.sim.CallsTo(odlsim.EndpointCheckout) != posts {
		t.Errorf("a checkout with no copy free was sent")
	}
}

// TestCheckoutTriesTheNextLicence: checkout/unavailable (as 403 or as
// 400) from the first licence moves on to the next, under the same
// checkout_id.
func TestCheckoutTriesTheNextLicence(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusBadRequest} {
		e := newEnv(t)
		e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Times: 1, Status: status, Problem: odlsim.TypeUnavailable})
		_, l := e.lend(t, "ln_next", odlsim.ISBNMulti)
		posts := e.requestsTo(odlsim.EndpointCheckout)
		if l.ProviderRef[refLicence] != odlsim.LicenseMultiPerpetual || len(posts) != 2 ||
			posts[0].Query.Get("id") != odlsim.LicenseMultiTime || posts[1].Query.Get("checkout_id") != "ln_next" {
			t.Errorf("status %d: loan on %s after %d POSTs", status, l.ProviderRef[refLicence], len(posts))
		}
	}
	// Every licence refuses: the last refusal, by its type.
	e := newEnv(t, odlsim.WithUnavailableStatus(http.StatusBadRequest))
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Status: http.StatusBadRequest, Problem: odlsim.TypeUnavailable})
	_, err := e.p.Checkout(context.Background(), e.checkout("ln_none", odlsim.ISBNMulti))
	wantError(t, err, sdk.CodeNotAvailable, typeUnavailable)
	if n := e.sim.CallsTo(odlsim.EndpointCheckout); n != 4 {
		t.Errorf("%d POSTs, want one per licence", n)
	}
}

// TestCheckoutRepeated: the same checkout again (a lost answer re-sent)
// gets the 303 to the loan made before: one loan, the same reference.
func TestCheckoutRepeated(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFaults(odlsim.Faults{Endpoints: []odlsim.Endpoint{odlsim.EndpointCheckout}, Times: 1, DropAfter: true})
	r := e.checkout("ln_lost", odlsim.ISBNOneCopy)
	_, err := e.p.Checkout(context.Background(), r)
	if sdk.OutcomeOf(err) != sdk.OutcomeUnknown || !e.sim.Lent("ln_lost") {
		t.Fatalf("a lost answer: %v (outcome %s), lent %v", err, sdk.OutcomeOf(err), e.sim.Lent("ln_lost"))
	}
	// The only copy is now lent (to ln_lost), yet the repeat succeeds:
	// the licence whose answer was lost is asked again, whatever its info
	// document says.
	e.clock.Advance(time.Hour)
	l, err := e.p.Checkout(context.Background(), r)
	if err != nil {
		t.Fatalf("the repeated checkout: %v", err)
	}
	got, _ := e.sim.Loan("ln_lost")
	if e.sim.LoansOf("ln_lost") != 1 || l.ProviderRef[refLSDID] != got.ID {
		t.Errorf("%d loans at the distributor, loan ref %v", e.sim.LoansOf("ln_lost"), l.ProviderRef)
	}
	// A 303 changed nothing, so the expires sent then is not the loan's:
	// its end is the LCP licence's.
	if !l.ExpiresAt.Equal(got.End) {
		t.Errorf("expires %s, want the loan's end %s", l.ExpiresAt, got.End)
	}
}
