package host_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
)

// TestEndedLoanServesNoLinks: once a loan is returned, its JSON carries
// "links": [] (in the return's answer and in GET), a fulfillment is
// refused, and a redirect signed while it was active no longer leads to
// the book.
func TestEndedLoanServesNoLinks(t *testing.T) {
	e := start(t, fakeConfig(t))
	r := e.do("POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p1"})
	if r.status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", r.status, r.body)
	}
	var loan host.Loan
	r.json(t, &loan)
	if len(loan.Links) == 0 {
		t.Fatalf("an active loan has no links: %s", r.body)
	}
	r = e.do("POST", "/v1/providers/fake-a/loans/"+loan.ID+"/fulfillment", map[string]any{})
	var f host.Fulfillment
	r.json(t, &f)
	if r.status != http.StatusOK || f.Redirect == "" {
		t.Fatalf("fulfillment of the active loan: %d %s", r.status, r.body)
	}

	r = e.do("DELETE", "/v1/providers/fake-a/loans/"+loan.ID, nil)
	if r.status != http.StatusOK {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	for _, got := range []response{r, e.do("GET", "/v1/providers/fake-a/loans/"+loan.ID, nil)} {
		var raw map[string]json.RawMessage
		got.json(t, &raw)
		if string(raw["links"]) != "[]" || string(raw["status"]) != `"returned"` {
			t.Errorf("a returned loan answers status %s, links %s; want \"returned\", []", raw["status"], raw["links"])
		}
	}
	e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans/"+loan.ID+"/fulfillment", map[string]any{}), http.StatusConflict, "not_available")
	r = e.do("GET", f.Redirect[len(e.srv.URL):], nil, "Authorization", "")
	if r.status == http.StatusSeeOther || strings.Contains(r.header.Get("Location"), "content.example") {
		t.Fatalf("the redirect of a returned loan still leads to the book: %d %s", r.status, r.header.Get("Location"))
	}
	e.expectProblem(r, http.StatusConflict, "not_available")
}

// TestLoanJSONLinksByStatus: only an active loan's JSON carries links.
func TestLoanJSONLinksByStatus(t *testing.T) {
	links := []host.Link{{Format: "epub", Rel: "content", Href: "https://content.example/x"}}
	for status, want := range map[string]string{
		host.StatusActive:   `[{"format":"epub","rel":"content","href":"https://content.example/x"}]`,
		host.StatusReturned: `[]`,
		host.StatusExpired:  `[]`,
		host.StatusRevoked:  `[]`,
	} {
		b, err := json.Marshal(host.Loan{ID: "ln_1", Status: status, Links: links, ProviderRef: map[string]string{"id": "A-1"}})
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if string(raw["links"]) != want {
			t.Errorf("%s loan: links %s, want %s", status, raw["links"], want)
		}
		if string(raw["provider_ref"]) != `{"id":"A-1"}` {
			t.Errorf("%s loan: provider_ref %s, want it kept (api.md §2)", status, raw["provider_ref"])
		}
	}
	b, _ := json.Marshal(host.Loan{Status: host.StatusActive})
	if !strings.Contains(string(b), `"links":[]`) {
		t.Errorf("an active loan without links: %s, want \"links\":[]", b)
	}
}
