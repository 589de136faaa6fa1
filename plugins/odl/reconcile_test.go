package main

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestAvailability: owned is Σ min(left, concurrency) over the licences
// that can still lend, available Σ available; every licence is listed.
func TestAvailability(t *testing.T) {
	for _, variant := range []bool{false, true} {
		opts := []odlsim.Option{}
		if variant {
			opts = append(opts, odlsim.WithInfoVariant())
		}
		e := newEnv(t, opts...)
		ctx := context.Background()
		e.lend(t, "ln_1", odlsim.ISBNMulti) // takes the time-limited licence's copy
		a, err := e.p.Availability(ctx, sdk.AvailabilityRequest{Instance: testInstance, Item: odlsim.ISBNMulti})
		if err != nil || a.Owned != 4 || a.Available != 3 || len(a.Licenses) != 4 {
			t.Fatalf("variant %v, four one-copy licences, one lent: %+v %v", variant, a, err)
		}
		byID := map[string]sdk.License{}
		for _, l := range a.Licenses {
			byID[l.ID] = l
		}
		if c := byID[odlsim.LicenseMultiCount]; c.Checkouts != 10 || c.Left != 10 || c.Concurrency != 1 || c.Available != 1 || !c.Expires.IsZero() || c.Status != "available" {
			t.Errorf("variant %v, count-limited licence %+v", variant, c)
		}
		if c := byID[odlsim.LicenseMultiTime]; c.Left != sdk.Unlimited || c.Available != 0 || c.Expires.IsZero() {
			t.Errorf("variant %v, time-limited licence %+v", variant, c)
		}

		a, err = e.p.Availability(ctx, sdk.AvailabilityRequest{Instance: testInstance, Item: odlsim.ISBNUnlimited})
		if err != nil || a.Owned != sdk.Unlimited || a.Available != sdk.Unlimited {
			t.Errorf("variant %v, unlimited licence: %+v %v", variant, a, err)
		}
		for _, item := range []string{odlsim.ISBNExhausted, odlsim.ISBNExpired, odlsim.ISBNPreorder} {
			a, err = e.p.Availability(ctx, sdk.AvailabilityRequest{Instance: testInstance, Item: item})
			if err != nil || a.Owned != 0 || a.Available != 0 || len(a.Licenses) != 1 || a.Licenses[0].Status == "available" {
				t.Errorf("variant %v, %s: %+v %v", variant, item, a, err)
			}
		}
		a, err = e.p.Availability(ctx, sdk.AvailabilityRequest{Instance: testInstance, Item: odlsim.ISBNOneCopy})
		if err != nil || a.Owned != 1 || a.Available != 1 || a.Licenses[0].Length != 14*24*time.Hour || a.Licenses[0].Left != 3 {
			t.Errorf("variant %v, one copy: %+v %v", variant, a, err)
		}
		_, err = e.p.Availability(ctx, sdk.AvailabilityRequest{Instance: testInstance, Item: odlsim.ISBNUnknown})
		wantError(t, err, sdk.CodeItemNotFound, "")
	}
}

// TestReconcile pages through every loan the distributor holds, each once,
// with its checkout id, LSD and patron; ended loans are not held.
func TestReconcile(t *testing.T) {
	e := newEnv(t, odlsim.WithInfoVariant())
	ctx := context.Background()
	want := map[string]string{}
	for i := range 7 {
		id := fmt.Sprintf("ln_%d", i)
		item := odlsim.ISBNAvailable
		if i%3 == 0 {
			item = odlsim.ISBNUnlimited
		}
		_, l := e.lend(t, id, item)
		want[id] = l.ProviderRef[refLSD]
	}
	e.lend(t, "ln_ended", odlsim.ISBNAvailable)
	if err := e.sim.EndSilently("ln_ended"); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	cursor, pages := "", 0
	for {
		page, err := e.p.Reconcile(ctx, sdk.ReconcileRequest{Instance: testInstance, Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Loans) > 3 {
			t.Errorf("page of %d loans, limit 3", len(page.Loans))
		}
		for _, h := range page.Loans {
			if _, dup := got[h.LoanID]; dup {
				t.Errorf("%s listed twice", h.LoanID)
			}
			got[h.LoanID] = h.ProviderRef[refLSD]
			if h.Patron != testPatron || h.ExpiresAt.IsZero() || (h.Item != odlsim.ISBNAvailable && h.Item != odlsim.ISBNUnlimited) {
				t.Errorf("held loan %+v", h)
			}
		}
		pages++
		if page.Next == "" {
			break
		}
		cursor = page.Next
		if pages > 20 {
			t.Fatal("no end to the pages")
		}
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("held\n got %v\nwant %v", got, want)
	}
	_, err := e.p.Reconcile(ctx, sdk.ReconcileRequest{Instance: testInstance, Cursor: "not a cursor!"})
	wantError(t, err, sdk.CodeInvalidRequest, "")
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
