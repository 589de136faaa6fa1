package memory_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/memory"
)

// The store keeps copies of loans of its own: what is read
// back equals what was written, nil and empty maps alike, and neither the
// writer's nor a reader's copy aliases what is kept.
func TestLoanKeptAsWritten(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	exp := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, l := range []journal.Loan{
		{ID: "ln_a", Provider: "p", Status: journal.StatusActive, ExpiresAt: &exp,
			ProviderRef: map[string]string{"order": "o-1", "tx": "t-2"}, Options: map[string]string{"k": "v"},
			Links: []journal.Link{{Format: "epub", Rel: "acquisition", Href: "https://example.org/a"}}},
		{ID: "ln_b", Provider: "p", Status: "pending", ProviderRef: map[string]string{}, Options: nil, Links: []journal.Link{}},
		{ID: "ln_c", Provider: "p", Status: "pending"},
	} {
		want := l.Clone()
		want.Version = 1 // written once
		if err := s.PutLoan(ctx, l); err != nil {
			t.Fatal(err)
		}
		for k := range l.ProviderRef {
			l.ProviderRef[k] = "changed by the writer"
		}
		if len(l.Links) > 0 {
			l.Links[0].Href = "changed by the writer"
		}
		got, err := s.Loan(ctx, "p", l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s read back as\n%#v\nwant\n%#v", l.ID, got, want)
		}
		for k := range got.ProviderRef {
			got.ProviderRef[k] = "changed by a reader"
		}
		if got.Options != nil {
			got.Options["k"] = "changed by a reader"
		}
		again, _ := s.Loan(ctx, "p", l.ID)
		if !reflect.DeepEqual(again, want) {
			t.Fatalf("%s changed through a reader's copy: %#v", l.ID, again)
		}
	}
}
