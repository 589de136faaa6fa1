package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/api"
)

// The HTTP answers encode loans without api.Loan.MarshalJSON (bodyOf);
// the bytes must be the ones it writes, for every status and links shape.
func TestLoanBodyEncodesAsLoan(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	exp := at.Add(14 * 24 * time.Hour)
	links := []api.Link{{Format: "epub", Rel: "acquisition", Href: "https://example.org/a?x=<1>&y=2", Name: "Book", ExpiresAt: &exp}}
	for _, l := range []api.Loan{
		{},
		{ID: "ln_1", Provider: "p", Item: "978", Patron: "pat", Status: api.StatusActive, Format: "epub", CreatedAt: at, ExpiresAt: &exp,
			Links: links, ProviderRef: map[string]string{"order": "o-1", "b": "<&>"}},
		{ID: "ln_2", Status: api.StatusActive, CreatedAt: at},                      // nil links
		{ID: "ln_3", Status: api.StatusActive, CreatedAt: at, Links: []api.Link{}}, // empty links
		{ID: "ln_4", Status: "returned", CreatedAt: at, Links: links},              // links hidden
		{ID: "ln_5", Status: "unknown", CreatedAt: at},
	} {
		var want, got bytes.Buffer
		if err := json.NewEncoder(&want).Encode(l); err != nil {
			t.Fatal(err)
		}
		if err := json.NewEncoder(&got).Encode(bodyOf(l)); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("loan %q:\n got %s\nwant %s", l.ID, got.String(), want.String())
		}
	}
}
