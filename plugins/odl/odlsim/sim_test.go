package odlsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/odl/odlsim"
)

// TestFeedPagesAndAuth: the feed holds every publication over its pages,
// linked by rel next, and needs Basic or Bearer credentials.
func TestFeedPagesAndAuth(t *testing.T) {
	e := newEnv(t, odlsim.WithPageSize(5))
	seen := map[string]bool{}
	next := e.sim.FeedURL(e.srv.URL)
	pages := 0
	for next != "" {
		a := e.do(http.MethodGet, next, true)
		if a.status != http.StatusOK || a.header.Get("Content-Type") != odlsim.TypeOPDS {
			t.Fatalf("feed page: %d %s", a.status, a.body)
		}
		doc := a.json(t)
		for _, p := range doc["publications"].([]any) {
			meta := p.(map[string]any)["metadata"].(map[string]any)
			seen[meta["identifier"].(string)] = true
			if lics := p.(map[string]any)["licenses"].([]any); len(lics) == 0 {
				t.Errorf("%v has no licences", meta["identifier"])
			}
		}
		next = href(doc, "next")
		pages++
	}
	if want := len(odlsim.Catalogue(start)); len(seen) != want || pages != 3 {
		t.Errorf("%d publications over %d pages, want %d over 3", len(seen), pages, want)
	}
	if !seen["urn:isbn:"+odlsim.ISBNAvailable] || !seen[odlsim.ItemUUID] {
		t.Errorf("feed misses test items: %v", seen)
	}

	if a := e.do(http.MethodGet, "/feed", false); a.status != http.StatusUnauthorized || a.problemType(t) != odlsim.TypeGeneric {
		t.Errorf("no credentials: %d %s", a.status, a.body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/feed", nil)
	req.Header.Set("Authorization", "Bearer "+odlsim.DefaultToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("bearer: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	req.Header.Set("Authorization", "Bearer wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong bearer: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// LSDs need no credentials.
	lsd := e.checkout(odlsim.LicenseAvailable, "c-auth", nil)
	if a := e.do(http.MethodGet, href(lsd, "self"), false); a.status != http.StatusOK {
		t.Errorf("LSD without credentials: %d %s", a.status, a.body)
	}
}

// TestCheckoutAndRepeat: a checkout answers 201 with an LSD; the same id
// and checkout_id again answers 303 to that LSD and changes nothing.
func TestCheckoutAndRepeat(t *testing.T) {
	e := newEnv(t)
	lsd := e.checkout(odlsim.LicenseAvailable, "c-1", nil)
	if lsd["status"] != odlsim.StatusActive || href(lsd, "license") == "" || href(lsd, "return") == "" || href(lsd, "renew") == "" {
		t.Fatalf("LSD %v", lsd)
	}
	if pr, _ := lsd["potential_rights"].(map[string]any); pr["end"] != start.Add(60*24*time.Hour).Format(time.RFC3339) {
		t.Errorf("potential_rights %v, want the start plus the licence's 60 days", pr)
	}
	left, running, _ := e.sim.License(odlsim.LicenseAvailable)
	a := e.do(http.MethodPost, e.checkoutURL(odlsim.LicenseAvailable, "c-1", func(q url.Values) { q.Set("patron_id", "someone-else") }), true)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != href(lsd, "self") {
		t.Fatalf("repeat: %d Location %q, want 303 to %s", a.status, a.header.Get("Location"), href(lsd, "self"))
	}
	if l2, r2, _ := e.sim.License(odlsim.LicenseAvailable); l2 != left || r2 != running || e.sim.LoansOf("c-1") != 1 {
		t.Errorf("the repeat changed the licence: left %d→%d running %d→%d, %d loans", left, l2, running, r2, e.sim.LoansOf("c-1"))
	}
	if l, _ := e.sim.Loan("c-1"); l.Patron != "patron-1" || !l.End.Equal(start.Add(7*24*time.Hour)) {
		t.Errorf("loan %+v", l)
	}
	// The audiobook's LSD has a manifest link, the DRM-free one a
	// publication link and (no expires in its template) the default length.
	if lsd := e.checkout(odlsim.LicenseAudiobook, "c-audio", nil); href(lsd, "manifest") == "" {
		t.Errorf("audiobook LSD without manifest: %v", lsd)
	}
	open := e.checkout(odlsim.LicenseOpen, "c-open", func(q url.Values) { q.Del("expires") })
	if href(open, "publication") == "" {
		t.Errorf("DRM-free LSD without publication: %v", open)
	}
	if l, _ := e.sim.Loan("c-open"); !l.End.Equal(start.Add(odlsim.DefaultLoanLength)) {
		t.Errorf("loan without expires ends %s", l.End)
	}
}

// TestCheckoutErrors triggers every checkout problem of the package doc.
func TestCheckoutErrors(t *testing.T) {
	lcp := func(q url.Values) {
		q.Set("passphrase", "abc")
		q.Set("hint", "PIN")
		q.Set("hint_url", "https://lib.example/hint")
	}
	tests := []struct {
		name   string
		lic    string
		edit   func(url.Values)
		status int
		typ    string
	}{
		{"no id", "", nil, 400, odlsim.TypeCheckoutVariable + "id"},
		{"unknown licence", "urn:uuid:nope", nil, 400, odlsim.TypeCheckoutVariable + "id"},
		{"no checkout_id", odlsim.LicenseAvailable, func(q url.Values) { q.Del("checkout_id") }, 400, odlsim.TypeCheckoutVariable + "checkout_id"},
		{"no patron_id", odlsim.LicenseAvailable, func(q url.Values) { q.Del("patron_id") }, 400, odlsim.TypeCheckoutVariable + "patron_id"},
		{"no expires", odlsim.LicenseAvailable, func(q url.Values) { q.Del("expires") }, 400, odlsim.TypeCheckoutVariable + "expires"},
		{"expires unreadable", odlsim.LicenseAvailable, func(q url.Values) { q.Set("expires", "soon") }, 400, odlsim.TypeCheckoutVariable + "expires"},
		{"expires past", odlsim.LicenseAvailable, func(q url.Values) { q.Set("expires", start.Add(-time.Hour).Format(time.RFC3339)) }, 400, odlsim.TypeCheckoutVariable + "expires"},
		{"expires beyond length", odlsim.LicenseAvailable, func(q url.Values) { q.Set("expires", start.Add(61*24*time.Hour).Format(time.RFC3339)) }, 400, odlsim.TypeCheckoutVariable + "expires"},
		{"bad notification_url", odlsim.LicenseAvailable, func(q url.Values) { q.Set("notification_url", "not a url") }, 400, odlsim.TypeCheckoutVariable + "notification_url"},
		{"no passphrase", odlsim.LicenseLCP, func(q url.Values) { lcp(q); q.Del("passphrase") }, 400, odlsim.TypeCheckoutVariable + "passphrase"},
		{"no hint", odlsim.LicenseLCP, func(q url.Values) { lcp(q); q.Del("hint") }, 400, odlsim.TypeCheckoutVariable + "hint"},
		{"bad hint_url", odlsim.LicenseLCP, func(q url.Values) { lcp(q); q.Set("hint_url", "x") }, 400, odlsim.TypeCheckoutVariable + "hint_url"},
		{"checkouts used up", odlsim.LicenseExhausted, nil, 403, odlsim.TypeUnavailable},
		{"preorder", odlsim.LicensePreorder, nil, 403, odlsim.TypeUnavailable},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			a := e.do(http.MethodPost, e.checkoutURL(tt.lic, "c-"+tt.name, tt.edit), true)
			if a.status != tt.status || a.problemType(t) != tt.typ {
				t.Errorf("%d %s, want %d %s", a.status, a.body, tt.status, tt.typ)
			}
		})
	}
	e.t = t
	if n := len(e.sim.Loans()); n != 0 {
		t.Errorf("refused checkouts made %d loans", n)
	}
	// The LCP licence lends with all three.
	e.checkout(odlsim.LicenseLCP, "c-lcp", lcp)

	// An expired licence: checkout/expired (403) whatever the expires.
	e2 := newEnv(t, odlsim.WithCatalogue(odlsim.Publication{Identifier: "urn:isbn:" + odlsim.ISBNExpired,
		Licenses: []odlsim.License{{ID: "lic-x", Format: odlsim.TypeEPUB, Expires: start.Add(-time.Hour), NoExpires: true}}}))
	if a := e2.do(http.MethodPost, e2.checkoutURL("lic-x", "c-x", nil), true); a.status != 403 || a.problemType(t) != odlsim.TypeExpired {
		t.Errorf("expired licence: %d %s", a.status, a.body)
	}

	// Some servers send unavailable as 400.
	e400 := newEnv(t, odlsim.WithUnavailableStatus(http.StatusBadRequest))
	if a := e400.do(http.MethodPost, e400.checkoutURL(odlsim.LicenseExhausted, "c-400", nil), true); a.status != 400 || a.problemType(t) != odlsim.TypeUnavailable {
		t.Errorf("WithUnavailableStatus(400): %d %s", a.status, a.body)
	}
}

// TestInfoDocument: counts follow the loans; the field variant writes
// "patron" and leaves out what does not apply.
func TestInfoDocument(t *testing.T) {
	for _, variant := range []bool{false, true} {
		opts := []odlsim.Option{}
		if variant {
			opts = append(opts, odlsim.WithInfoVariant())
		}
		e := newEnv(t, opts...)
		info := "/licenses/" + url.PathEscape(odlsim.LicenseUnlimited) + "/info"
		doc := e.do(http.MethodGet, info, true).json(t)
		co := doc["checkouts"].(map[string]any)
		_, hasLeft := co["left"]
		_, hasActive := co["active"]
		if variant == hasLeft || variant == hasActive || doc["status"] != "available" {
			t.Errorf("variant %v, unlimited licence without loans: %v", variant, doc)
		}
		e.checkout(odlsim.LicenseOneCopy, "c-one", nil)
		doc = e.do(http.MethodGet, "/licenses/"+url.PathEscape(odlsim.LicenseOneCopy)+"/info", true).json(t)
		co = doc["checkouts"].(map[string]any)
		active, _ := co["active"].([]any)
		if co["left"] != float64(2) || co["available"] != float64(0) || len(active) != 1 {
			t.Fatalf("variant %v, after one loan: %v", variant, doc)
		}
		a := active[0].(map[string]any)
		patronKey := "patron_id"
		if variant {
			patronKey = "patron"
		}
		if a["id"] != "c-one" || a[patronKey] != "patron-1" || !strings.HasSuffix(a["href"].(string), "/status") {
			t.Errorf("variant %v, active loan %v", variant, a)
		}
		if e.do(http.MethodGet, info, false).status != http.StatusUnauthorized {
			t.Errorf("info without credentials answered")
		}
	}
}

// TestReturnRenewAndExpiry walks a loan's LSD interactions.
func TestReturnRenewAndExpiry(t *testing.T) {
	e := newEnv(t)
	lsd := e.checkout(odlsim.LicenseOneCopy, "c-1", nil)
	renew := href(lsd, "renew")
	end := start.Add(10 * 24 * time.Hour)
	a := e.do(http.MethodPut, expand(renew, url.Values{"end": {end.Format(time.RFC3339)}}), false)
	if a.status != 200 || !e.sim.Renewed("c-1") {
		t.Fatalf("renew: %d %s", a.status, a.body)
	}
	if l, _ := e.sim.Loan("c-1"); !l.End.Equal(end) {
		t.Errorf("renewed end %s, want %s", l.End, end)
	}
	// Past potential_rights.end (14 days): 200, end unchanged.
	a = e.do(http.MethodPut, expand(renew, url.Values{"end": {start.Add(20 * 24 * time.Hour).Format(time.RFC3339)}}), false)
	if l, _ := e.sim.Loan("c-1"); a.status != 200 || !l.End.Equal(end) || l.Renewals != 1 {
		t.Errorf("renew past the potential end: %d, loan %+v", a.status, l)
	}
	a = e.do(http.MethodPut, expand(renew, url.Values{"end": {start.Format(time.RFC3339)}}), false)
	if a.status != 403 || a.problemType(t) != odlsim.TypeRenewDate {
		t.Errorf("renew to an earlier end: %d %s", a.status, a.body)
	}

	ret := href(lsd, "return")
	a = e.do(http.MethodPut, expand(ret, url.Values{"name": {"test"}}), false)
	if doc := a.json(t); a.status != 200 || doc["status"] != odlsim.StatusReturned || href(doc, "license") != "" || !e.sim.Returned("c-1") {
		t.Fatalf("return: %d %s", a.status, a.body)
	}
	if _, running, _ := e.sim.License(odlsim.LicenseOneCopy); running != 0 {
		t.Errorf("%d loans running after the return", running)
	}
	if a = e.do(http.MethodPut, expand(ret, nil), false); a.status != 403 || a.problemType(t) != odlsim.TypeReturnAlready {
		t.Errorf("second return: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodPut, expand(renew, nil), false); a.status != 403 || a.problemType(t) != odlsim.TypeRenew {
		t.Errorf("renew of a returned loan: %d %s", a.status, a.body)
	}

	// A loan expires by the clock; its copy is free again.
	lsd = e.checkout(odlsim.LicenseOneCopy, "c-2", nil)
	e.clock.Advance(8 * 24 * time.Hour)
	doc := e.do(http.MethodGet, href(lsd, "self"), false).json(t)
	if doc["status"] != odlsim.StatusExpired {
		t.Errorf("after its end the loan is %v", doc["status"])
	}
	if a = e.do(http.MethodPut, expand(href(lsd, "self")[:strings.LastIndex(href(lsd, "self"), "/")]+"/return{?id,name}", nil), false); a.status != 403 || a.problemType(t) != odlsim.TypeReturnExpired {
		t.Errorf("return of an expired loan: %d %s", a.status, a.body)
	}
	// Third and last checkout of the licence, then none left.
	e.checkout(odlsim.LicenseOneCopy, "c-3", func(q url.Values) { q.Set("expires", e.clock.Now().Add(time.Hour).Format(time.RFC3339)) })
	e.clock.Advance(2 * time.Hour)
	a = e.do(http.MethodPost, e.checkoutURL(odlsim.LicenseOneCopy, "c-4", func(q url.Values) { q.Set("expires", e.clock.Now().Add(time.Hour).Format(time.RFC3339)) }), true)
	if a.status != 403 || a.problemType(t) != odlsim.TypeUnavailable {
		t.Errorf("fourth checkout of a 3-checkout licence: %d %s", a.status, a.body)
	}

	// Ready loans: return cancels.
	r := newEnv(t, odlsim.WithReadyLoans())
	lsd = r.checkout(odlsim.LicenseAvailable, "c-r", nil)
	if lsd["status"] != odlsim.StatusReady {
		t.Fatalf("WithReadyLoans: %v", lsd["status"])
	}
	if doc := r.do(http.MethodPut, expand(href(lsd, "return"), nil), false).json(t); doc["status"] != odlsim.StatusCancelled {
		t.Errorf("return of a ready loan: %v", doc["status"])
	}
}

// TestLinkVariants: untemplated return and renew links, rels as arrays,
// the text/html renew link, no return link, no self link.
func TestLinkVariants(t *testing.T) {
	e := newEnv(t, odlsim.WithUntemplatedLinks(), odlsim.WithArrayRels(), odlsim.WithoutSelfLinks())
	lsd := e.checkout(odlsim.LicenseAvailable, "c-1", nil)
	if strings.Contains(href(lsd, "renew"), "{") || strings.Contains(href(lsd, "return"), "{") || href(lsd, "self") != "" {
		t.Fatalf("LSD %v", lsd)
	}
	if a := e.do(http.MethodPut, href(lsd, "renew"), false); a.status != 200 {
		t.Fatalf("untemplated renew: %d %s", a.status, a.body)
	}
	if l, _ := e.sim.Loan("c-1"); !l.End.Equal(start.Add(7*24*time.Hour + odlsim.DefaultRenewPeriod)) {
		t.Errorf("untemplated renew: end %s", l.End)
	}
	lic := e.do(http.MethodGet, href(lsd, "license"), false).json(t)
	if rights := lic["rights"].(map[string]any); rights["end"] != start.Add(14*24*time.Hour).Format(time.RFC3339) || href(lic, "status") == "" {
		t.Errorf("licence document %v", lic)
	}
	nr := e.checkout(odlsim.LicenseNoRenew, "c-2", nil)
	links := nr["links"].([]any)
	for _, l := range links {
		m := l.(map[string]any)
		if m["rel"].([]any)[0] == "renew" && m["type"] != "text/html" {
			t.Errorf("RenewHTML licence's renew link %v", m)
		}
	}
	if a := e.do(http.MethodGet, href(nr, "renew"), false); a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("renew page: %d %s", a.status, a.header.Get("Content-Type"))
	}
	if lsd := e.checkout(odlsim.LicenseNoReturn, "c-3", nil); href(lsd, "return") != "" {
		t.Errorf("NoReturn licence has a return link")
	}
}
