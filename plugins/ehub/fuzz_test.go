package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// FuzzParseCheckout feeds the answer parser arbitrary statuses and bodies:
// it must never panic, and must give either a loan (for a 2xx with a checkout
// id) or an *sdk.Error with a unified code. The committed corpus in
// testdata/fuzz/FuzzParseCheckout holds the seed's own example answer.
func FuzzParseCheckout(f *testing.F) {
	f.Add(201, []byte(`{"id":"c1","formatMetadata":{"ebook":{"contentLinks":[{"href":"https://x.example/c"}],"supplementLinks":[{"name":"s","href":"http:/bad"}]}},"expirationDate":"2016-01-01T00:00:00Z"}`))
	f.Add(409, []byte(`{"code":"ALREADY_ON_LOAN","message":"already"}`))
	f.Add(429, []byte(``))
	f.Add(200, []byte(`{"id":"c1","formatMetadata":{"ebook":{"contentLinks":"<content links>"}}}`))

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		loan, err := cannedCall("", status, http.Header{"Retry-After": {"5"}}, body, now)
		if err != nil {
			e, ok := err.(*sdk.Error)
			if !ok {
				t.Fatalf("error %T %v is not an *sdk.Error", err, err)
			}
			if !e.Code.Known() {
				t.Fatalf("unknown code %q", e.Code)
			}
			if e.Message == "" {
				t.Fatal("error without a message")
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("status %d gave a loan", status)
		}
		if loan.ProviderRef["checkout_id"] == "" {
			t.Fatal("loan without a checkout id")
		}
		for _, l := range loan.Links {
			if l.Rel != "content" && l.Rel != "supplement" {
				t.Fatalf("link rel %q", l.Rel)
			}
			if l.Format == "" && loan.Format == "" {
				t.Fatal("links but no format")
			}
		}
	})
}
