package host_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
)

// hostileConfig is fakeConfig plus an instance "hostile" of the plugin in
// testdata/hostileplugin.
func hostileConfig(t testing.TB) host.Config {
	cfg := fakeConfig(t)
	cfg.Plugins["hostile"] = pinned(t, testbin.Build(t, "github.com/lendgate/lendgate/internal/testplugins/hostileplugin", ""))
	cfg.Providers["hostile"] = host.ProviderConfig{Plugin: "hostile", Defaults: host.Defaults{Format: "epub", Days: 14}}
	return cfg
}

func hostileLoan(e *env, mode string) (host.Loan, response) {
	e.t.Helper()
	r := e.do("POST", "/v1/providers/hostile/loans", map[string]any{"item": "rec-1", "patron": "p1", "options": map[string]string{"mode": mode}})
	if r.status != http.StatusCreated {
		e.t.Fatalf("checkout %s: %d %.300s", mode, r.status, r.body)
	}
	var l host.Loan
	r.json(e.t, &l)
	return l, r
}

// hostileRedirect lends with mode and fulfills the loan, and returns the
// loan and the path of the fulfillment's redirect URL.
func hostileRedirect(e *env, mode string) (host.Loan, string) {
	e.t.Helper()
	l, _ := hostileLoan(e, mode)
	var f host.Fulfillment
	e.do("POST", "/v1/providers/hostile/loans/"+l.ID+"/fulfillment", nil).json(e.t, &f)
	return l, strings.TrimPrefix(f.Redirect, e.srv.URL)
}

func TestLinksOtherThanHTTPAreDropped(t *testing.T) {
	e := start(t, hostileConfig(t))
	l, r := hostileLoan(e, "schemes")
	var hrefs []string
	for _, link := range l.Links {
		hrefs = append(hrefs, link.Href)
	}
	want := []string{"http:/localhost:8080/seed.epub", "https://content.example/ok", "HTTPS://content.example/upper"}
	if strings.Join(hrefs, " ") != strings.Join(want, " ") {
		t.Errorf("links %q, want exactly the http(s) ones verbatim %q", hrefs, want)
	}
	for _, bad := range []string{"javascript", "data:", "file:", "vbscript", "Set-Cookie"} {
		if strings.Contains(string(r.body), bad) {
			t.Errorf("the loan JSON carries %q: %s", bad, r.body)
		}
	}
	// The journal keeps what the ILS was told.
	got := e.do("GET", "/v1/providers/hostile/loans/"+l.ID, nil)
	if strings.Contains(string(got.body), "javascript") {
		t.Errorf("the stored loan carries a javascript: link: %s", got.body)
	}
	if m := e.metricsText(); !strings.Contains(m, `lendgate_links_dropped_total{provider="hostile"} 7`) {
		t.Errorf("dropped links not counted:\n%s", m)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"scheme":"javascript"`) || !strings.Contains(logs, `"@level":"warn"`) {
		t.Errorf("dropped links not logged at warn with their scheme:\n%s", logs)
	}
	if strings.Contains(logs, "document.cookie") || strings.Contains(logs, "<script>") {
		t.Errorf("a dropped href's content reached the logs")
	}
}

func TestDangerousContentLinkNeverReachesALocation(t *testing.T) {
	e := start(t, hostileConfig(t))
	l, _ := hostileLoan(e, "jscontent")
	r := e.do("POST", "/v1/providers/hostile/loans/"+l.ID+"/fulfillment", nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "javascript") {
		t.Fatalf("fulfillment: %d %s", r.status, r.body)
	}
	var f host.Fulfillment
	r.json(t, &f)
	if len(f.Links) != 0 || f.Redirect == "" {
		t.Fatalf("fulfillment %+v", f)
	}
	got := e.do("GET", strings.TrimPrefix(f.Redirect, e.srv.URL), nil, "Authorization", "")
	if loc := got.header.Get("Location"); loc != "" {
		t.Fatalf("redirect to %q", loc)
	}
	e.expectProblem(got, http.StatusConflict, "not_available")
}

func TestPluginAnswersAreCapped(t *testing.T) {
	e := start(t, hostileConfig(t))
	l, r := hostileLoan(e, "huge")
	if len(r.body) > 64<<10 {
		t.Errorf("a loan of %d bytes reached the ILS", len(r.body))
	}
	if len(l.Links) > 32 || len(l.Links) == 0 {
		t.Errorf("%d links kept", len(l.Links))
	}
	for _, link := range l.Links {
		if len(link.Href) > 8<<10 || len(link.Name) > 200 || len(link.Format) > 200 {
			t.Errorf("an oversized link kept: href %d, name %d, format %d bytes", len(link.Href), len(link.Name), len(link.Format))
		}
	}
	if len(l.ProviderRef) > 32 {
		t.Errorf("%d provider_ref entries kept", len(l.ProviderRef))
	}
	for k, v := range l.ProviderRef {
		if len(k) > 128 || len(v) > 4<<10 {
			t.Errorf("an oversized provider_ref entry kept: key %d, value %d bytes", len(k), len(v))
		}
	}
	if len(l.Format) > 100 {
		t.Errorf("a format of %d bytes kept", len(l.Format))
	}
	if n := longestLine(e.logs.String()); n > 4<<10 {
		t.Errorf("a log line of %d bytes", n)
	}
}

func TestPluginEventsAreBounded(t *testing.T) {
	e := start(t, hostileConfig(t))
	l, _ := hostileLoan(e, "")
	notify, err := url.Parse(l.ProviderRef["notify_url"])
	if err != nil || notify.Path == "" {
		t.Fatalf("notify_url %q", l.ProviderRef["notify_url"])
	}
	if r := e.do("POST", notify.Path, `{}`, "Authorization", ""); r.status != http.StatusNoContent {
		t.Fatalf("notification: %d %s", r.status, r.body)
	}
	r := e.do("GET", "/v1/events", nil)
	var page host.EventPage
	r.json(t, &page)
	last := page.Events[len(page.Events)-1]
	if last.Type != "loan.notified" {
		t.Errorf("event type %q stored, want loan.notified", last.Type)
	}
	if len(last.Data) > 32 {
		t.Errorf("%d data entries stored", len(last.Data))
	}
	b, _ := json.Marshal(last)
	if len(b) > 64<<10 {
		t.Errorf("an event of %d bytes stored", len(b))
	}
}

func TestReplayedRedirectReusesTheFreshLink(t *testing.T) {
	e := start(t, hostileConfig(t))
	l, redirect := hostileRedirect(e, "")
	const uses = 50
	locations := map[string]int{}
	for range uses {
		r := e.do("GET", redirect, nil, "Authorization", "")
		if r.status != http.StatusSeeOther {
			t.Fatalf("redirect: %d %s", r.status, r.body)
		}
		locations[r.header.Get("Location")]++
	}
	// The plugin numbers its Fulfill calls for the loan: call=1 was the
	// fulfillment above.
	calls := 0
	for loc := range locations {
		u, _ := url.Parse(loc)
		if u.Query().Get("call") == "" {
			t.Fatalf("location %q", loc)
		}
		calls++
	}
	if calls > 2 {
		t.Errorf("%d uses of one redirect URL made %d distributor calls: %v", uses, calls, locations)
	}
	// A returned loan's redirect stops at once, reuse or not.
	if r := e.do("DELETE", "/v1/providers/hostile/loans/"+l.ID, nil); r.status != http.StatusOK {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	e.expectProblem(e.do("GET", redirect, nil, "Authorization", ""), http.StatusConflict, "not_available")
}

func TestRedirectDoesNotReuseALinkAboutToExpire(t *testing.T) {
	e := start(t, hostileConfig(t))
	_, redirect := hostileRedirect(e, "shortlived")
	seen := map[string]bool{}
	for range 3 {
		r := e.do("GET", redirect, nil, "Authorization", "")
		if r.status != http.StatusSeeOther || seen[r.header.Get("Location")] {
			t.Fatalf("use of a redirect: %d, location %q seen before: %v", r.status, r.header.Get("Location"), seen)
		}
		seen[r.header.Get("Location")] = true
	}
}
