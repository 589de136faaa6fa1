package host_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
)

const isbnOK = "9789084999813"

func checkout(e *env, provider string, body map[string]any, headers ...string) host.Loan {
	e.t.Helper()
	r := e.do("POST", "/v1/providers/"+provider+"/loans", body, headers...)
	if r.status != http.StatusCreated {
		e.t.Fatalf("checkout: status %d: %s", r.status, r.body)
	}
	var l host.Loan
	r.json(e.t, &l)
	return l
}

func TestLoanLifecycleOverHTTP(t *testing.T) {
	e := start(t, fakeConfig(t))
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "patron-42", "patron_name": "Jane Doe"})
	if l.Status != "active" || l.Item != isbnOK || l.Patron != "patron-42" || l.Format != "epub" || l.Provider != "fake-a" {
		t.Fatalf("unexpected loan %+v", l)
	}
	if !strings.HasPrefix(l.ID, "ln_") || l.ExpiresAt == nil {
		t.Fatalf("loan id %q / expiry %v", l.ID, l.ExpiresAt)
	}
	// Defaults of the instance: 14 days.
	if d := l.ExpiresAt.Sub(l.CreatedAt); d < 13*24*time.Hour || d > 15*24*time.Hour {
		t.Errorf("expiry %v after creation, want about 14 days", d)
	}
	// The plugin never saw the ILS's patron id, only a 32-hex pseudonym.
	seen := l.ProviderRef["patron_seen"]
	if seen == "patron-42" || len(seen) != 32 {
		t.Errorf("plugin saw patron %q, want a 32-character pseudonym", seen)
	}
	if !strings.HasPrefix(l.ProviderRef["notify_url"], e.srv.URL+"/v1/notifications/fake-a/"+l.ID+".") {
		t.Errorf("notify_url %q", l.ProviderRef["notify_url"])
	}

	var got host.Loan
	e.do("GET", "/v1/providers/fake-a/loans/"+l.ID, nil).json(t, &got)
	if got.ID != l.ID || got.Status != "active" {
		t.Errorf("GET loan = %+v", got)
	}
	var list struct{ Loans []host.Loan }
	e.do("GET", "/v1/providers/fake-a/loans?patron=patron-42", nil).json(t, &list)
	if len(list.Loans) != 1 || list.Loans[0].ID != l.ID {
		t.Errorf("patron loans = %+v", list.Loans)
	}

	r := e.do("POST", "/v1/providers/fake-a/loans/"+l.ID+"/fulfillment", map[string]any{"format": "pdf"})
	var f host.Fulfillment
	r.json(t, &f)
	if r.status != 200 || len(f.Links) != 1 || f.Links[0].Format != "pdf" || f.Loan != l.ID {
		t.Fatalf("fulfillment %d %s", r.status, r.body)
	}
	u, err := url.Parse(f.Redirect)
	if err != nil || !strings.HasPrefix(f.Redirect, e.srv.URL+"/v1/providers/fake-a/loans/"+l.ID+"/content?") {
		t.Fatalf("redirect %q", f.Redirect)
	}
	// The redirect needs no API key: the signature is the authority.
	r = e.do("GET", u.RequestURI(), nil, "Authorization", "")
	if r.status != http.StatusSeeOther {
		t.Fatalf("content: %d %s", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != "https://content.example/"+l.ID+"/pdf?v=1.0.0" {
		t.Errorf("Location %q", loc)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}

	r = e.do("POST", "/v1/providers/fake-a/loans/"+l.ID+"/renewal", map[string]any{"days": 7})
	var renewed host.Loan
	r.json(t, &renewed)
	if r.status != 200 || !renewed.ExpiresAt.After(*l.ExpiresAt) {
		t.Fatalf("renewal %d %s", r.status, r.body)
	}
	r = e.do("DELETE", "/v1/providers/fake-a/loans/"+l.ID, nil)
	var returned host.Loan
	r.json(t, &returned)
	if r.status != 200 || returned.Status != "returned" {
		t.Fatalf("return %d %s", r.status, r.body)
	}
	// A returned loan cannot be fulfilled any more.
	e.expectProblem(e.do("POST", "/v1/providers/fake-a/loans/"+l.ID+"/fulfillment", nil), 409, "not_available")

	var page host.EventPage
	e.do("GET", "/v1/events", nil).json(t, &page)
	var types []string
	for _, ev := range page.Events {
		types = append(types, ev.Type)
		if ev.Loan != l.ID || ev.Patron != "patron-42" || ev.Item != isbnOK || ev.Provider != "fake-a" {
			t.Errorf("event %+v", ev)
		}
	}
	if strings.Join(types, ",") != "loan.created,loan.renewed,loan.returned" {
		t.Errorf("events %v", types)
	}
	// Paging: after the first, two remain.
	var rest host.EventPage
	e.do("GET", "/v1/events?after="+page.Events[0].Cursor+"&limit=1", nil).json(t, &rest)
	if len(rest.Events) != 1 || rest.Events[0].Type != "loan.renewed" || rest.Next != rest.Events[0].Cursor {
		t.Errorf("page after first = %+v", rest)
	}
}

func TestNotificationOnce(t *testing.T) {
	var seen []host.Event
	cfg := fakeConfig(t)
	cfg.OnEvent = func(ev host.Event) { seen = append(seen, ev) }
	e := start(t, cfg)
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	notify, _ := url.Parse(l.ProviderRef["notify_url"])

	// Distributors call without our API key.
	r := e.do("POST", notify.Path, `{"type":"return"}`, "Authorization", "")
	if r.status != http.StatusNoContent {
		t.Fatalf("notification: %d %s", r.status, r.body)
	}
	got, _ := e.h.Loan(context.Background(), "fake-a", l.ID)
	if got.Status != "returned" {
		t.Fatalf("loan status %q after return notification", got.Status)
	}
	n := e.eventCount()
	r = e.do("POST", notify.Path, `{"type":"return"}`, "Authorization", "")
	if r.status != http.StatusNoContent {
		t.Fatalf("second notification: %d %s", r.status, r.body)
	}
	if e.eventCount() != n {
		t.Errorf("the same notification twice appended a second event")
	}
	if len(seen) != 2 || seen[1].Type != "loan.returned" { // created + returned
		t.Errorf("OnEvent saw %+v", seen)
	}

	// A token for another loan, or a forged one, finds nothing.
	for _, path := range []string{
		"/v1/notifications/fake-a/" + l.ID + ".AAAA",
		"/v1/notifications/fake-a/garbage",
		"/v1/notifications/fake-b/" + strings.TrimPrefix(notify.Path, "/v1/notifications/fake-a/"),
	} {
		e.expectProblem(e.do("POST", path, `{"type":"return"}`, "Authorization", ""), 404, "loan_not_found")
	}
	if e.eventCount() != n {
		t.Errorf("an unknown token changed the event log")
	}
}

func TestRedirectSignature(t *testing.T) {
	e := start(t, fakeConfig(t))
	l := checkout(e, "fake-a", map[string]any{"item": isbnOK, "patron": "p1"})
	var f host.Fulfillment
	e.do("POST", "/v1/providers/fake-a/loans/"+l.ID+"/fulfillment", nil).json(t, &f)
	u, _ := url.Parse(f.Redirect)
	q := u.Query()
	sign := func(format string, exp int64) string { return signFor(testSecret, "fake-a", l.ID, format, exp) }
	// The signature is the one api.md §4 defines.
	if q.Get("sig") != sign(q.Get("format"), mustInt(q.Get("exp"))) {
		t.Fatalf("sig %q is not base64url(HMAC-SHA256(secret, provider|loan|format|exp))", q.Get("sig"))
	}
	path := u.Path
	future := time.Now().Add(5 * time.Minute).Unix()
	tests := []struct {
		name  string
		query string
	}{
		{"tampered signature", fmt.Sprintf("format=epub&exp=%d&sig=%s", mustInt(q.Get("exp")), "A"+q.Get("sig")[1:])},
		{"other format", fmt.Sprintf("format=pdf&exp=%s&sig=%s", q.Get("exp"), q.Get("sig"))},
		{"expired", fmt.Sprintf("format=epub&exp=%d&sig=%s", time.Now().Add(-time.Minute).Unix(), sign("epub", time.Now().Add(-time.Minute).Unix()))},
		{"too far ahead", fmt.Sprintf("format=epub&exp=%d&sig=%s", time.Now().Add(time.Hour).Unix(), sign("epub", time.Now().Add(time.Hour).Unix()))},
		{"missing signature", fmt.Sprintf("format=epub&exp=%d", future)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.expectProblem(e.do("GET", path+"?"+tt.query, nil, "Authorization", ""), 403, "forbidden")
		})
	}
	e.t = t
	r := e.do("GET", fmt.Sprintf("%s?format=epub&exp=%d&sig=%s", path, future, sign("epub", future)), nil, "Authorization", "")
	if r.status != http.StatusSeeOther {
		t.Fatalf("a fresh signature made with the secret: %d %s", r.status, r.body)
	}
}
