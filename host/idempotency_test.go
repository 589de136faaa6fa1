package host_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/lendgate/lendgate/host"
)

func TestIdempotentCheckout(t *testing.T) {
	e := start(t, fakeConfig(t))
	body := map[string]any{"item": isbnOK, "patron": "p1"}
	first := e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "key-1")
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	again := e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "key-1")
	if again.status != http.StatusOK || string(again.body) != string(first.body) {
		t.Fatalf("replay: %d %s, want 200 and the first answer %s", again.status, again.body, first.body)
	}
	e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans", map[string]any{"item": isbnOK, "patron": "p2"}, "Idempotency-Key", "key-1"), 422, "idempotency_mismatch")
	// Keys are per provider instance; another key makes a new loan.
	if r := e.do("POST", "/v1/providers/fake-b/loans", body, "Idempotency-Key", "key-1"); r.status != http.StatusCreated {
		t.Errorf("same key at another provider: %d", r.status)
	}
	if r := e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "key-2"); r.status != http.StatusCreated {
		t.Errorf("another key: %d", r.status)
	}
	loans, _ := e.h.PatronLoans(t.Context(), "fake-a", "p1")
	if len(loans) != 2 {
		t.Errorf("%d loans for p1 at fake-a, want 2", len(loans))
	}
}

func TestIdempotentConcurrentRetries(t *testing.T) {
	e := start(t, fakeConfig(t))
	body := map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"mode": "sleep:200ms"}}
	const n = 16
	var wg sync.WaitGroup
	answers := make([]response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "same")
		}()
	}
	wg.Wait()
	created := 0
	for _, a := range answers {
		if a.status == http.StatusCreated {
			created++
		} else if a.status != http.StatusOK {
			t.Fatalf("answer %d %s", a.status, a.body)
		}
		var l, l0 struct{ ID string }
		a.json(t, &l)
		answers[0].json(t, &l0)
		if l.ID != l0.ID {
			t.Errorf("answers name different loans: %s and %s", l.ID, l0.ID)
		}
	}
	if created != 1 {
		t.Errorf("%d answers were 201, want exactly 1", created)
	}
	loans, _ := e.h.PatronLoans(t.Context(), "fake-a", "p1")
	if len(loans) != 1 {
		t.Errorf("%d loans journaled, want 1", len(loans))
	}
}

func TestIdempotentRefusalIsReplayed(t *testing.T) {
	e := start(t, fakeConfig(t))
	body := map[string]any{"item": isbnOK, "patron": "p1", "options": map[string]string{"mode": "error:not_available"}}
	e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "k"), 409, "not_available")
	p := e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans", body, "Idempotency-Key", "k"), 409, "not_available")
	if p.ProviderCode != "FAKE-1" {
		t.Errorf("replayed refusal lost its provider code: %+v", p)
	}
}

func TestIdempotentReturn(t *testing.T) {
	e := start(t, fakeConfig(t))
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	first := e.do("DELETE", "/v1/providers/fake-a/loans/"+l.ID, nil, "Idempotency-Key", "ret-1")
	again := e.do("DELETE", "/v1/providers/fake-a/loans/"+l.ID, nil, "Idempotency-Key", "ret-1")
	if first.status != 200 || again.status != 200 || string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("return then its retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	// Without the key a second return is refused: the loan is returned.
	e.expectProblem(e.do("DELETE", "/v1/providers/fake-a/loans/"+l.ID, nil), 409, "not_available")
	// Through Go, the key rides the context.
	l2 := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	ctx := host.WithIdempotencyKey(t.Context(), "ret-2")
	a, err1 := e.h.Return(ctx, "fake-a", l2.ID)
	b, err2 := e.h.Return(ctx, "fake-a", l2.ID)
	if err1 != nil || err2 != nil || a.Status != "returned" || b.ID != a.ID {
		t.Fatalf("Go returns: %v %v", err1, err2)
	}
	returned := 0
	page, _ := e.h.Events(t.Context(), "", 100)
	for _, ev := range page.Events {
		if ev.Type == "loan.returned" {
			returned++
		}
	}
	if returned != 2 {
		t.Errorf("%d loan.returned events, want 2 (one per loan)", returned)
	}
}

// TestGoKeyInTheContextServesCheckoutToo: WithIdempotencyKey, the way a
// Go caller keys a Return, keys a Checkout as well: the retry answers the
// first loan, and the same call without the key lends again.
func TestGoKeyInTheContextServesCheckoutToo(t *testing.T) {
	e := start(t, fakeConfig(t))
	ctx := host.WithIdempotencyKey(t.Context(), "co-ctx")
	r := host.CheckoutRequest{Item: isbnOK, Patron: "p1"}
	a, err1 := e.h.Checkout(ctx, "fake-a", r)
	b, err2 := e.h.Checkout(ctx, "fake-a", r)
	if err1 != nil || err2 != nil || a.ID == "" || b.ID != a.ID {
		t.Fatalf("keyed by the context: %v %v, loans %q and %q, want one loan", err1, err2, a.ID, b.ID)
	}
	c, err := e.h.Checkout(t.Context(), "fake-a", r)
	if err != nil || c.ID == a.ID {
		t.Fatalf("without the key: %v, loan %q, want a new loan", err, c.ID)
	}
}
