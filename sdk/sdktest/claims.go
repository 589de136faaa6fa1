package sdktest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// What a plugin claims is checked against what its simulator did: an
// expiry against the days asked, a dedupe declaration against the loans the
// simulator holds, a resolution against the loan it placed, availability
// and reconcile answers against their own arithmetic and the loan the kit
// just made.

// day is a loan day as distributors count them.
const day = 24 * time.Hour

// epochYear: an expiry before it is a zero Unix time (or one of a
// distributor's "no date" values) read as a date.
const epochYear = 2000

// checkExpiry checks the expiry of a new loan asked for days at asked.
func (k *kit) checkExpiry(t *testing.T, op string, days int, asked, expires time.Time) {
	t.Helper()
	const fix = "set Loan.ExpiresAt from the distributor's answer (its loan end), read in its time zone: the host shows it to the library and expires the loan at it"
	switch {
	case expires.IsZero() && days > 0:
		t.Errorf("%s asked for %d days and the loan has no expiry (the zero time): %s", op, days, fix)
	case expires.IsZero():
	case expires.Year() < epochYear:
		t.Errorf("%s: the loan expires %s, a date before %d: a zero or misread Unix time (seconds read as milliseconds?): %s",
			op, expires.UTC().Format(time.RFC3339), epochYear, fix)
	case !expires.After(time.Now()):
		t.Errorf("%s: the new loan expired already (%s): %s", op, expires.UTC().Format(time.RFC3339), fix)
	case days > 0 && expires.After(asked.Add(time.Duration(days)*day+k.c.ExpiryTolerance)):
		t.Errorf("%s asked for %d days and the loan expires %s, later than that (and than the %s of Config.ExpiryTolerance): "+
			"answer the distributor's loan end, not a guess", op, days, expires.UTC().Format(time.RFC3339), k.c.ExpiryTolerance)
	}
}

// checkRenewedExpiry checks a renewal's answer: the loan's new end, after
// the old one and within the days asked.
func (k *kit) checkRenewedExpiry(t *testing.T, old, asked, renewed time.Time) {
	t.Helper()
	switch {
	case renewed.IsZero():
		t.Errorf("Renew answered no expiry (the zero time): answer the loan with its new ExpiresAt; the host keeps the old end otherwise and expires the loan at it")
	case renewed.Year() < epochYear:
		t.Errorf("Renew: the loan now expires %s, a date before %d: a zero or misread Unix time", renewed.UTC().Format(time.RFC3339), epochYear)
	case !old.IsZero() && !renewed.After(old):
		t.Errorf("Renew by %d days: the loan now expires %s, not after its old expiry %s", k.c.RenewDays,
			renewed.UTC().Format(time.RFC3339), old.UTC().Format(time.RFC3339))
	default:
		from := asked
		if old.After(from) {
			from = old
		}
		if renewed.After(from.Add(time.Duration(k.c.RenewDays)*day + k.c.ExpiryTolerance)) {
			t.Errorf("Renew by %d days: the loan now expires %s, later than %d days past its old expiry %s", k.c.RenewDays,
				renewed.UTC().Format(time.RFC3339), k.c.RenewDays, from.UTC().Format(time.RFC3339))
		}
	}
}

// checkoutFor is the Checkout sample with a fresh loan id and a patron of
// its own (the sample's with "-<tag>" appended), for a check that needs a
// loan of its own without running into the sample patron's limits.
func (k *kit) checkoutFor(tag string) sdk.CheckoutRequest {
	r := k.checkout()
	r.Patron = fmt.Sprintf("%s-%s", r.Patron, tag)
	return r
}

// freshLoan makes a loan for a check that uses one up, and fails t when
// the sample checkout does not lend.
func (k *kit) freshLoan(t *testing.T, tag string) (sdk.CheckoutRequest, sdk.Loan) {
	t.Helper()
	r := k.checkoutFor(tag)
	ctx, cancel := k.callCtx(t)
	defer cancel()
	loan, err := k.p.Checkout(ctx, r)
	if err != nil {
		t.Fatalf("a checkout of the sample for this check failed (see capability/checkout): %s", k.explain(t, err))
	}
	return r, loan
}

// resolveRef is what the host hands Resolve for a checkout: what the
// checkout sent.
func resolveRef(r sdk.CheckoutRequest) sdk.ResolveRequest {
	return sdk.ResolveRequest{Instance: r.Instance, Days: r.Days, NotifyURL: r.NotifyURL,
		Loan: sdk.LoanRef{ID: r.LoanID, Item: r.Item, Patron: r.Patron, PatronName: r.PatronName, Format: r.Format, Options: r.Options}}
}

// checkResolve resolves the sample's loan, which the distributor holds:
// it must answer placed.
func (k *kit) checkResolve(t *testing.T, ref sdk.LoanRef) {
	rv := k.p.(sdk.Resolver)
	ctx, cancel := k.callCtx(t)
	defer cancel()
	res, err := rv.Resolve(ctx, sdk.ResolveRequest{Instance: k.c.Instance, Days: k.c.Checkout.Days,
		Loan: sdk.LoanRef{ID: ref.ID, Item: ref.Item, Patron: ref.Patron, PatronName: ref.PatronName, Format: ref.Format, Options: ref.Options}})
	if err != nil {
		t.Fatalf("Resolve of the sample's loan, which the distributor holds: %s", k.explain(t, err))
	}
	if !res.Placed {
		t.Errorf("Resolve of the sample's loan answered not placed, though the checkout lent it: the host would revoke a live loan")
	}
	checkLinks(t, "Resolve", res.Loan.Links)
}

// checkDedupesCheckout sends one loan id twice: a distributor that
// deduplicates holds one loan. The host re-sends a checkout whose outcome
// it could not learn only on this declaration.
func (k *kit) checkDedupesCheckout(t *testing.T) {
	if k.c.Effects.Checkouts == nil {
		t.Fatal("the plugin declares Info.DedupesCheckout, but Config.Effects.Checkouts is not set: give the kit a hook that counts the simulator's " +
			"loans under a loan id (the order reference the plugin sends), so that it can check the claim on which the host re-sends checkouts")
	}
	r := k.checkoutFor("dedupe")
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if _, err := k.p.Checkout(ctx, r); err != nil {
		t.Fatalf("a checkout of the sample: %s", k.explain(t, err))
	}
	_, err := k.p.Checkout(ctx, r)
	if err != nil && sdk.CodeOf(err) != sdk.CodeDuplicateReference {
		t.Errorf("the same checkout (one loan id) sent again: %s; a distributor that deduplicates answers the loan again, or %s (the first order stands)",
			k.explain(t, err), sdk.CodeDuplicateReference)
	}
	k.wantLoans(t, r.LoanID, 1, "after the same checkout was sent twice")
}

// wantLoans checks, with Effects.Checkouts, that the simulator holds want
// loans under loanID.
func (k *kit) wantLoans(t *testing.T, loanID string, want int, when string) {
	t.Helper()
	var n int
	if !k.bound(t, "Config.Effects.Checkouts", func() { n = k.c.Effects.Checkouts(loanID) }) {
		return
	}
	switch {
	case n == want:
	case n == 0:
		t.Errorf("Config.Effects.Checkouts counts no loan under loan id %q %s: send CheckoutRequest.LoanID as the distributor's order reference "+
			"(and count by it in the hook)", loanID, when)
	case n > 1:
		t.Errorf("the simulator holds %d loans under loan id %q %s: the distributor does not deduplicate checkouts by the loan id. "+
			"Fix: send CheckoutRequest.LoanID as the order reference it deduplicates by, or declare DedupesCheckout false "+
			"(the host re-sends a checkout whose outcome it could not learn only when it is true: a retry would order twice)", n, loanID, when)
	default:
		t.Errorf("the simulator holds %d loans under loan id %q %s, want %d", n, loanID, when, want)
	}
}

// checkDedupesRenew sends one renewal id twice: the loan must be extended
// once.
func (k *kit) checkDedupesRenew(t *testing.T) {
	if k.c.Effects.Renewals == nil {
		t.Fatal("the plugin declares Info.DedupesRenew, but Config.Effects.Renewals is not set: give the kit a hook that counts the simulator's " +
			"extensions of a loan under a renewal id, so that it can check the claim on which the host re-sends renewals")
	}
	r, loan := k.freshLoan(t, "dedupe-renew")
	ref := loanRef(r, loan)
	req := sdk.RenewRequest{Instance: k.c.Instance, Loan: ref, Days: k.c.RenewDays, RenewalID: k.loanID()}
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if _, err := k.p.Renew(ctx, req); err != nil {
		t.Fatalf("Renew of a fresh loan: %s", k.explain(t, err))
	}
	_, err := k.p.Renew(ctx, req)
	if err != nil && sdk.CodeOf(err) != sdk.CodeDuplicateReference {
		t.Errorf("the same renewal (one renewal id) sent again: %s; a distributor that deduplicates answers the renewal again, or %s",
			k.explain(t, err), sdk.CodeDuplicateReference)
	}
	k.wantRenewals(t, ref, req.RenewalID, "after the same renewal was sent twice")
}

// wantRenewals checks, with Effects.Renewals, that the simulator extended
// the loan once under renewalID.
func (k *kit) wantRenewals(t *testing.T, ref sdk.LoanRef, renewalID, when string) {
	t.Helper()
	var n int
	if !k.bound(t, "Config.Effects.Renewals", func() { n = k.c.Effects.Renewals(ref, renewalID) }) {
		return
	}
	if n != 1 {
		t.Errorf("the simulator extended the loan %d times under renewal id %q %s, want once: declare DedupesRenew only when the distributor "+
			"recognises RenewRequest.RenewalID (the plugin sends it as the renewal's reference); the host re-sends a renewal whose outcome "+
			"it could not learn only then", n, renewalID, when)
	}
}

// checkDedupesReturn returns one loan twice: the second return must answer
// the returned loan.
func (k *kit) checkDedupesReturn(t *testing.T) {
	r, loan := k.freshLoan(t, "dedupe-return")
	ref := loanRef(r, loan)
	ctx, cancel := k.callCtx(t)
	defer cancel()
	if _, err := k.p.Return(ctx, sdk.ReturnRequest{Instance: k.c.Instance, Loan: ref}); err != nil {
		t.Fatalf("Return of a fresh loan: %s", k.explain(t, err))
	}
	if _, err := k.p.Return(ctx, sdk.ReturnRequest{Instance: k.c.Instance, Loan: ref}); err != nil {
		t.Errorf("the same return sent again: %s; the plugin declares DedupesReturn, so a return of a loan already returned must answer "+
			"the returned loan (the host re-sends a return whose outcome it could not learn only then)", k.explain(t, err))
	}
}

// licenceStatuses are the statuses of sdk.License.
var licenceStatuses = []string{"available", "unavailable", "preorder"}

// checkAvailability asks for the sample item's copies: the counts must add
// up.
func (k *kit) checkAvailability(t *testing.T) {
	ar := k.p.(sdk.AvailabilityReporter)
	ctx, cancel := k.callCtx(t)
	defer cancel()
	a, err := ar.Availability(ctx, sdk.AvailabilityRequest{Instance: k.c.Instance, Item: k.c.Checkout.Item})
	if err != nil {
		t.Fatalf("Availability of the sample's item: %s", k.explain(t, err))
	}
	if a.Available < 0 || a.Owned < a.Available {
		t.Errorf("Availability: owned %d, available %d; want owned ≥ available ≥ 0", a.Owned, a.Available)
	}
	for i, l := range a.Licenses {
		counted := func(n int) bool { return n >= 0 || n == sdk.Unlimited }
		switch {
		case !slices.Contains(licenceStatuses, l.Status):
			t.Errorf("Availability: licence %d (%q): status %q, want one of %v", i, l.ID, l.Status, licenceStatuses)
		case l.Available < 0:
			t.Errorf("Availability: licence %d (%q): %d available", i, l.ID, l.Available)
		case !counted(l.Left) || !counted(l.Checkouts) || !counted(l.Concurrency):
			t.Errorf("Availability: licence %d (%q): checkouts %d, left %d, concurrency %d; each is ≥ 0 or sdk.Unlimited", i, l.ID, l.Checkouts, l.Left, l.Concurrency)
		case l.Checkouts != sdk.Unlimited && l.Left != sdk.Unlimited && l.Left > l.Checkouts:
			t.Errorf("Availability: licence %d (%q): %d checkouts left of %d", i, l.ID, l.Left, l.Checkouts)
		case l.Concurrency != sdk.Unlimited && l.Available > l.Concurrency:
			t.Errorf("Availability: licence %d (%q): %d available at once, more than its concurrency %d", i, l.ID, l.Available, l.Concurrency)
		}
	}
}

// reconcilePages bounds the pages the kit reads: a cursor that never ends
// fails the check instead of running forever.
const reconcilePages = 1000

// reconcileLimit is the page size the kit asks for, small so that paging
// is exercised.
const reconcileLimit = 5

// checkReconcile makes a loan and pages through the loans the distributor
// holds: the loan must be there, by its loan id or its provider ref, every
// held loan must be matchable, and paging must end.
func (k *kit) checkReconcile(t *testing.T) {
	rc := k.p.(sdk.Reconciler)
	r, loan := k.freshLoan(t, "reconcile")
	found, cursors := false, map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page == reconcilePages {
			t.Fatalf("Reconcile: still paging after %d pages of %d: a cursor must come to an end (Next \"\" after the last page)", reconcilePages, reconcileLimit)
		}
		ctx, cancel := k.callCtx(t)
		p, err := rc.Reconcile(ctx, sdk.ReconcileRequest{Instance: k.c.Instance, Cursor: cursor, Limit: reconcileLimit})
		cancel()
		if err != nil {
			t.Fatalf("Reconcile, page %d: %s", page+1, k.explain(t, err))
		}
		if len(p.Loans) > reconcileLimit {
			t.Errorf("Reconcile, page %d: %d loans for a limit of %d", page+1, len(p.Loans), reconcileLimit)
		}
		for _, h := range p.Loans {
			if h.LoanID == "" && len(h.ProviderRef) == 0 {
				t.Errorf("Reconcile: a held loan (item %q) has neither a loan id nor a provider ref: the host cannot match it to its loans", h.Item)
			}
			if h.LoanID == r.LoanID || sharesValue(h.ProviderRef, loan.ProviderRef) {
				found = true
			}
		}
		if p.Next == "" {
			break
		}
		if cursors[p.Next] {
			t.Fatalf("Reconcile, page %d: cursor %q came back: paging would never end", page+1, p.Next)
		}
		cursors[p.Next] = true
		cursor = p.Next
	}
	if !found {
		t.Errorf("Reconcile: the loan the kit just placed (loan id %q, provider ref %v) is not among the loans the distributor holds: "+
			"the host would end it as returned. Answer HeldLoan.LoanID (the checkout's loan id) or a ProviderRef value the checkout answered", r.LoanID, loan.ProviderRef)
	}
}

// sharesValue reports whether a and b have a value in common.
func sharesValue(a, b map[string]string) bool {
	for v := range maps.Values(a) {
		for w := range maps.Values(b) {
			if v != "" && v == w {
				return true
			}
		}
	}
	return false
}
