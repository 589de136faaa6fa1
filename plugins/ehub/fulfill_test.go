package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testclock"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
	"github.com/lendgate/lendgate/sdk"
)

func (f *fixture) fulfill(t *testing.T, checkoutID, patron, format string) (sdk.Fulfillment, error) {
	t.Helper()
	return f.p.Fulfill(context.Background(), sdk.FulfillRequest{
		Instance: testInstance,
		Format:   format,
		Loan: sdk.LoanRef{ID: "ln_1", Patron: patron,
			ProviderRef: map[string]string{"checkout_id": checkoutID}},
	})
}

func TestFulfill(t *testing.T) {
	f := newFixture(t, ehubsim.DefaultAPIKey)
	loan, err := f.checkout(t, ehubsim.RecordMultiFormat, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	id := loan.ProviderRef["checkout_id"]

	t.Run("all formats", func(t *testing.T) {
		ful, err := f.fulfill(t, id, "p", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ful.Links) != 12 {
			t.Errorf("%d links, want 12", len(ful.Links))
		}
		for i := range ful.Links {
			if ful.Links[i] != loan.Links[i] {
				t.Errorf("link %d: %+v, checkout gave %+v", i, ful.Links[i], loan.Links[i])
			}
		}
	})
	t.Run("one format", func(t *testing.T) {
		ful, err := f.fulfill(t, id, "p", "ebook")
		if err != nil {
			t.Fatal(err)
		}
		if len(ful.Links) != 4 {
			t.Fatalf("%d links, want 4", len(ful.Links))
		}
		for _, l := range ful.Links {
			if l.Format != "ebook" {
				t.Errorf("link of format %q", l.Format)
			}
		}
	})
	t.Run("absent format", func(t *testing.T) {
		_, err := f.fulfill(t, id, "p", "epub")
		wantCode(t, err, sdk.CodeNotAvailable, "")
		if err != nil && !strings.Contains(err.Error(), `"epub"`) {
			t.Errorf("%v does not name the format", err)
		}
	})
	t.Run("another patron", func(t *testing.T) {
		_, err := f.fulfill(t, id, "someone-else", "")
		wantCode(t, err, sdk.CodeLoanNotFound, "CHECKOUT_NOT_FOUND")
	})
	t.Run("unknown checkout", func(t *testing.T) {
		_, err := f.fulfill(t, "checkout-999", "p", "")
		wantCode(t, err, sdk.CodeLoanNotFound, "CHECKOUT_NOT_FOUND")
	})
	t.Run("malformed checkout id", func(t *testing.T) {
		_, err := f.fulfill(t, "not a loan!", "p", "")
		wantCode(t, err, sdk.CodeLoanNotFound, "INVALID_LOAN_ID")
	})
	t.Run("path traversal stays one segment", func(t *testing.T) {
		_, err := f.fulfill(t, "../checkouts", "p", "")
		wantCode(t, err, sdk.CodeLoanNotFound, "INVALID_LOAN_ID")
		_, err = f.fulfill(t, "..", "p", "")
		wantCode(t, err, sdk.CodeInvalidRequest, "")
	})
	t.Run("no checkout id", func(t *testing.T) {
		_, err := f.fulfill(t, "", "p", "")
		wantCode(t, err, sdk.CodeInvalidRequest, "")
	})
}

func TestFulfillExpiredLoan(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := testclock.New(now)
	f := newFixture(t, ehubsim.DefaultAPIKey, ehubsim.WithClock(clock.Now), ehubsim.WithLoanDays(1))
	loan, err := f.checkout(t, ehubsim.RecordEbook, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := now.AddDate(0, 0, 1); !loan.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", loan.ExpiresAt, want)
	}
	clock.Advance(48 * time.Hour)
	_, err = f.fulfill(t, loan.ProviderRef["checkout_id"], "p", "")
	wantCode(t, err, sdk.CodeLoanNotFound, "INACTIVE_LOAN")
}
