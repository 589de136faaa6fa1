package journaltest

import (
	"errors"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

func testLoanPutGetDelete(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	if _, err := s.Loan(ctx, "a", "ln_1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("Loan of an empty store: %v, want ErrNotFound", err)
	}
	r := loan("a", "ln_1", "p1", "pending")
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Version = 1 // written once
	got, err := s.Loan(ctx, "a", "ln_1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, got, r, "Loan after PutLoan")

	// The same id at another provider is another loan.
	if _, err := s.Loan(ctx, "b", "ln_1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("Loan b/ln_1: %v, want ErrNotFound", err)
	}
	other := loan("b", "ln_1", "p9", journal.StatusActive)
	if err := s.PutLoan(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.Version++

	// PutLoan replaces the version it read, and stores the next.
	r.Status = journal.StatusActive
	r.ExpiresAt = timePtr(at(3600))
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Version++
	got, err = s.Loan(ctx, "a", "ln_1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, got, r, "Loan after a second PutLoan")
	if got.Version != 2 {
		t.Fatalf("a loan written twice is at version %d, want 2", got.Version)
	}
	got, err = s.Loan(ctx, "b", "ln_1")
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, got, other, "the other provider's loan")

	if err := s.DeleteLoan(ctx, "a", "ln_1", r.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Loan(ctx, "a", "ln_1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("Loan after DeleteLoan: %v, want ErrNotFound", err)
	}
	loans, err := s.PatronLoans(ctx, "a", "p1")
	mustIDs(t, loans, err)
	if _, err := s.Loan(ctx, "b", "ln_1"); err != nil {
		t.Fatalf("deleting a/ln_1 removed b/ln_1: %v", err)
	}
	if err := s.DeleteLoan(ctx, "a", "ln_1", r.Version); err != nil {
		t.Fatalf("deleting a missing loan: %v", err)
	}
	if err := s.DeleteLoan(ctx, "nobody", "nothing", 7); err != nil {
		t.Fatalf("deleting a missing loan: %v", err)
	}
}

func testLoanRecordRoundTrip(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	exp := base.Add(14*24*time.Hour + 123456789) // nanoseconds kept in the record
	r := journal.Loan{ID: "ln_01J", Provider: "demarque-mtl", Item: "9782924", Patron: "patron-1",
		Status: journal.StatusActive, Format: "epub", CreatedAt: base.Add(987654321), ExpiresAt: &exp,
		Links: []journal.Link{
			{Format: "epub", Rel: "acquisition", Href: "https://example.test/a.epub?sig=x&y=1", Name: "Livre", ExpiresAt: &exp},
			{Format: "lcp", Rel: "license", Href: "https://example.test/l", Type: "application/vnd.readium.lcp.license.v1.0+json"},
		},
		ProviderRef: map[string]string{"transaction": "tx-1", "unicode": "é€😀"},
		PatronKey:   "pseudonym-123",
		PatronName:  "Anne Hébert",
		Options:     map[string]string{"watermark": "yes"},
		AttemptAt:   base.Add(5 * time.Second),
	}
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Version++
	got, err := s.Loan(ctx, r.Provider, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustJSON(t, got, r, "loan record")
	if !got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(r.CreatedAt) {
		t.Fatalf("times changed: %v %v", got.CreatedAt, got.ExpiresAt)
	}

	// A caller changing what it put or got does not change the store.
	r.Options["watermark"] = "changed"
	r.Links[0].Href = "changed"
	got.ProviderRef["transaction"] = "changed"
	again, err := s.Loan(ctx, r.Provider, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Options["watermark"] != "yes" || again.Links[0].Href == "changed" || again.ProviderRef["transaction"] != "tx-1" {
		t.Fatalf("the store shares maps or slices with its callers: %+v", again)
	}
}

func testPatronLoans(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	loans, err := s.PatronLoans(ctx, "a", "p1")
	mustIDs(t, loans, err)
	// Put out of order: the store returns them oldest (lowest id) first.
	for _, r := range []journal.Loan{
		loan("a", "ln_03", "p1", journal.StatusActive),
		loan("a", "ln_01", "p1", "returned"),
		loan("b", "ln_02", "p1", journal.StatusActive), // same patron id, other provider
		loan("a", "ln_04", "p2", journal.StatusActive), // other patron
		loan("a", "ln_02", "p1", "pending"),
		loan("a", "ln_05", "p10", journal.StatusActive), // a patron id that p1 is a prefix of
	} {
		if err := s.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	loans, err = s.PatronLoans(ctx, "a", "p1")
	mustIDs(t, loans, err, "a/ln_01", "a/ln_02", "a/ln_03")
	loans, err = s.PatronLoans(ctx, "b", "p1")
	mustIDs(t, loans, err, "b/ln_02")
	loans, err = s.PatronLoans(ctx, "a", "p2")
	mustIDs(t, loans, err, "a/ln_04")
	loans, err = s.PatronLoans(ctx, "c", "p1")
	mustIDs(t, loans, err)
	if err := s.DeleteLoan(ctx, "a", "ln_02", 1); err != nil {
		t.Fatal(err)
	}
	loans, err = s.PatronLoans(ctx, "a", "p1")
	mustIDs(t, loans, err, "a/ln_01", "a/ln_03")
}

func testLoansByStatus(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	loans, err := s.LoansByStatus(ctx, "", "pending", 10)
	mustIDs(t, loans, err)
	for _, r := range []journal.Loan{
		loan("a", "ln_05", "p1", "pending"),
		loan("a", "ln_01", "p2", "pending"),
		loan("a", "ln_02", "p1", journal.StatusActive),
		loan("b", "ln_03", "p1", "pending"),
		loan("a", "ln_04", "p3", "pending"),
		loan("b", "ln_06", "p1", "unknown"),
	} {
		if err := s.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	loans, err = s.LoansByStatus(ctx, "a", "pending", 10)
	mustIDs(t, loans, err, "a/ln_01", "a/ln_04", "a/ln_05")
	loans, err = s.LoansByStatus(ctx, "a", "pending", 2)
	mustIDs(t, loans, err, "a/ln_01", "a/ln_04")
	loans, err = s.LoansByStatus(ctx, "a", "pending", 0)
	mustIDs(t, loans, err, "a/ln_01", "a/ln_04", "a/ln_05") // 0: no limit, as every driver does
	loans, err = s.LoansByStatus(ctx, "b", "pending", 10)
	mustIDs(t, loans, err, "b/ln_03")
	loans, err = s.LoansByStatus(ctx, "b", "unknown", 10)
	mustIDs(t, loans, err, "b/ln_06")
	loans, err = s.LoansByStatus(ctx, "c", "pending", 10)
	mustIDs(t, loans, err)

	// Every provider. The order across providers is not pinned here: the
	// bolt driver lists them provider by provider.
	loans, err = s.LoansByStatus(ctx, "", "pending", 10)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, loans, "a/ln_01", "a/ln_04", "a/ln_05", "b/ln_03")
	mustOrderedWithinProvider(t, loans)
	loans, err = s.LoansByStatus(ctx, "", "pending", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(loans) != 3 {
		t.Fatalf("limit 3 gave %q", ids(loans))
	}
	for _, r := range loans {
		if r.Status != "pending" {
			t.Fatalf("LoansByStatus(pending) returned %s in status %s", r.ID, r.Status)
		}
	}
	mustOrderedWithinProvider(t, loans)
}

func mustSet(t *testing.T, got []journal.Loan, want ...string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids(got) {
		seen[id]++
	}
	ok := len(got) == len(want)
	for _, id := range want {
		if seen[id] != 1 {
			ok = false
		}
	}
	if !ok {
		t.Fatalf("got loans %q, want (in any order) %q", ids(got), want)
	}
}

func mustOrderedWithinProvider(t *testing.T, got []journal.Loan) {
	t.Helper()
	last := map[string]string{}
	for _, r := range got {
		if prev, ok := last[r.Provider]; ok && prev >= r.ID {
			t.Fatalf("loans of %s not oldest first: %q", r.Provider, ids(got))
		}
		last[r.Provider] = r.ID
	}
}

func testExpiredLoans(t *testing.T, o *opened) {
	ctx, s := t.Context(), o.s
	now := at(1000)
	withExpiry := func(r journal.Loan, exp *time.Time) journal.Loan { r.ExpiresAt = exp; return r }
	for _, r := range []journal.Loan{
		withExpiry(loan("a", "ln_01", "p1", journal.StatusActive), timePtr(at(10))),     // expired
		withExpiry(loan("a", "ln_02", "p1", journal.StatusActive), timePtr(at(999))),    // expired, a second before
		withExpiry(loan("a", "ln_03", "p1", journal.StatusActive), timePtr(now)),        // expires at now: not before
		withExpiry(loan("a", "ln_04", "p1", journal.StatusActive), timePtr(at(5000))),   // later
		withExpiry(loan("a", "ln_05", "p1", "returned"), timePtr(at(10))),               // not active
		withExpiry(loan("a", "ln_06", "p1", "pending"), timePtr(at(10))),                // not active
		withExpiry(loan("a", "ln_07", "p1", journal.StatusActive), nil),                 // no expiry
		withExpiry(loan("b", "ln_08", "p1", journal.StatusActive), timePtr(at(-86400))), // another provider
		withExpiry(loan("b", "ln_09", "p1", "expired"), timePtr(at(10))),                // already expired
	} {
		if err := s.PutLoan(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	loans, err := s.ExpiredLoans(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, loans, "a/ln_01", "a/ln_02", "b/ln_08")
	loans, err = s.ExpiredLoans(ctx, now, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(loans) != 2 {
		t.Fatalf("limit 2 gave %q", ids(loans))
	}
	loans, err = s.ExpiredLoans(ctx, at(0), 10)
	mustIDs(t, loans, err, "b/ln_08")
	loans, err = s.ExpiredLoans(ctx, at(-2*86400), 10)
	mustIDs(t, loans, err)

	// A loan renewed past t is no longer expired.
	r := withExpiry(loan("b", "ln_08", "p1", journal.StatusActive), timePtr(at(9000)))
	r.Version = 1
	if err := s.PutLoan(ctx, r); err != nil {
		t.Fatal(err)
	}
	loans, err = s.ExpiredLoans(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, loans, "a/ln_01", "a/ln_02")
}
