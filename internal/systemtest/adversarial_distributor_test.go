//go:build linux

package systemtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

// Point 4: an eHUB instance without api_key next to a good one on the same
// plugin: the good one lends, the bad one's errors name only itself, and
// the plugin is not restarted in a loop.
func TestAdversarialOneInstanceFaultStaysItsOwn(t *testing.T) {
	const good, bad = "lib-good-ehub", "lib-broken-ehub"
	ehURL := serve(t, newEHSim())
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "ehub")
	cfg.Providers[good] = advEHInstance(ehURL)
	broken := advEHInstance(ehURL)
	delete(broken.Settings, "api_key")
	cfg.Providers[bad] = broken
	s := launch(t, "server", writeRawConfig(t, cfg, nil), addr)
	if st := s.readyWithin(8 * time.Second); st == "exited" {
		t.Fatalf("the server exited at start with one misconfigured instance:\n%s", s.logTail(20))
	} else if st != "ready" {
		t.Errorf("/readyz is not 200 within 8s with one misconfigured instance of a running plugin")
	}

	a := s.do(http.MethodPost, "/v1/providers/"+good+"/loans", mustJSON(host.CheckoutRequest{Item: ehubsim.RecordEbook, Patron: "p-good"}), "")
	if a.status != http.StatusCreated {
		t.Errorf("checkout at the good instance: %v, want 201", a)
	}
	b := s.do(http.MethodPost, "/v1/providers/"+bad+"/loans", mustJSON(host.CheckoutRequest{Item: ehubsim.RecordEbook, Patron: "p-bad"}), "")
	if e := problemErr(b); e != "" {
		t.Errorf("checkout at the broken instance: %s", e)
	} else if c := b.code(); c != "provider_credentials" && c != "plugin_unavailable" {
		t.Errorf("checkout at the broken instance: %v, want provider_credentials or plugin_unavailable", b)
	}
	if strings.Contains(string(b.body), good) {
		t.Errorf("the broken instance's error names the good instance: %s", b.body)
	}
	if p := s.open(http.MethodGet, "/v1/providers/"+bad, http.Header{"Authorization": {"Bearer " + testAPIKey}}, nil); strings.Contains(string(p.body), good) {
		t.Errorf("GET /v1/providers/%s names the good instance: %s", bad, p.body)
	}
	if p := s.open(http.MethodGet, "/v1/providers/"+good, http.Header{"Authorization": {"Bearer " + testAPIKey}}, nil); strings.Contains(string(p.body), bad) {
		t.Errorf("GET /v1/providers/%s names the broken instance: %s", good, p.body)
	}

	// No restart loop: over a few seconds the plugin stays up in one
	// process.
	first := s.provider(good).Plugin
	if !first.Up || first.PID <= 0 || first.Restarts != 0 {
		t.Errorf("the plugin serving the good instance is %+v, want up, with a pid, never restarted", first)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		p := s.provider(good).Plugin
		if p.Restarts != 0 || p.PID != first.PID || p.Up != first.Up {
			t.Errorf("within 3 s the plugin went from %+v to %+v: a restart loop", first, p)
			break
		}
		time.Sleep(250 * time.Millisecond) // sampling over a fixed window
	}
	if m := s.metricsText(); strings.Contains(m, `lendgate_plugin_restarts_total{plugin="ehub"}`) &&
		!strings.Contains(m, `lendgate_plugin_restarts_total{plugin="ehub"} 0`) {
		t.Errorf("/metrics counts restarts of ehub: %s", grepLines(m, "lendgate_plugin_restarts_total"))
	}
	if a := s.do(http.MethodPost, "/v1/providers/"+good+"/loans", mustJSON(host.CheckoutRequest{Item: ehubsim.RecordEbook, Patron: "p-good-2"}), ""); a.status != http.StatusCreated {
		t.Errorf("second checkout at the good instance: %v, want 201", a)
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Point 5: CB's EBS-10060 (no price for this title yet) is about the one
// title: it answers try_later for it and pauses nothing else.
func TestAdversarialOneTitleWithoutPricePausesOnlyItself(t *testing.T) {
	cb := newCBSim(cbsim.WithUser("reader-1", "pw-1"))
	simURL := serve(t, cb)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb")
	cfg.Providers["cb"] = advCBInstance(simURL)
	s := startAdv(t, "server", cfg, nil)

	a := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANNoPrice, "p-noprice"), "")
	wantProblem(t, "checkout of the title without a price", a, http.StatusServiceUnavailable, "try_later")
	if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra <= 0 {
		t.Errorf("try_later without a positive Retry-After: %q", a.header.Get("Retry-After"))
	}
	calls := cb.CallsTo(cbsim.OpPlaceOrder)

	b := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, "p-other"), "")
	if b.status != http.StatusCreated {
		t.Fatalf("checkout of another title right after: %v, want 201 (the pause is the title's)", b)
	}
	if cb.CallsTo(cbsim.OpPlaceOrder) != calls+1 {
		t.Errorf("CB saw %d placeOrder calls, want %d", cb.CallsTo(cbsim.OpPlaceOrder), calls+1)
	}
	var l host.Loan
	mustUnmarshal(t, b.body, &l)
	if r := s.do(http.MethodPost, "/v1/providers/cb/loans/"+l.ID+"/renewal", []byte(`{"days": 7}`), ""); r.status != http.StatusOK {
		t.Errorf("renewal right after: %v, want 200", r)
	}
	if r := s.do(http.MethodPost, "/v1/providers/cb/access-checks", mustJSON(host.AccessCheckRequest{Item: cbsim.EANAvailable2, Patron: "reader-1", Password: "pw-1"}), ""); r.status != http.StatusOK {
		t.Errorf("access check right after: %v, want 200", r)
	}
	if c := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable2, "p-third"), ""); c.status != http.StatusCreated {
		t.Errorf("a third title: %v, want 201", c)
	}
}

// Point 6: a distributor's Retry-After, however large, is bounded to 24 h
// and parsed overflow-safe: the problem's retry_after and the Retry-After
// header stay within 1..86400, and the instance-level pause holds (a
// second call does not reach the distributor).
func TestAdversarialRetryAfterIsBounded(t *testing.T) {
	values := []string{"99999999999", "9223372037", "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"}
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb", "ehub")
	type target struct {
		instance, body string
		hits           *counter
	}
	var targets []target
	for i, v := range values {
		n := &counter{}
		f := &front{next: newCBSim()}
		f.set(answer429(v, n))
		name := fmt.Sprintf("cb-ra-%d", i)
		cfg.Providers[name] = advCBInstance(serve(t, f))
		targets = append(targets, target{name, v, n})
	}
	n := &counter{}
	f := &front{next: newEHSim()}
	f.set(answer429(values[0], n))
	cfg.Providers["eh-ra"] = advEHInstance(serve(t, f))
	targets = append(targets, target{"eh-ra", values[0], n})
	s := startAdv(t, "server", cfg, nil)

	for _, tg := range targets {
		t.Run(tg.instance+" Retry-After "+tg.body, func(t *testing.T) {
			item := cbsim.EANAvailable
			if strings.HasPrefix(tg.instance, "eh") {
				item = ehubsim.RecordEbook
			}
			body := mustJSON(host.CheckoutRequest{Item: item, Patron: "p-ra",
				Options: map[string]string{"reading_method": "D", "protection": "03"}})
			if strings.HasPrefix(tg.instance, "eh") {
				body = mustJSON(host.CheckoutRequest{Item: item, Patron: "p-ra"})
			}
			for i, what := range []string{"the 429 itself", "the call after it"} {
				a := s.do(http.MethodPost, "/v1/providers/"+tg.instance+"/loans", body, "")
				if e := problemErr(a); e != "" {
					t.Errorf("%s: %s", what, e)
					continue
				}
				p := a.problem()
				h, err := strconv.ParseInt(a.header.Get("Retry-After"), 10, 64)
				if p.RetryAfter <= 0 || p.RetryAfter > 86400 || err != nil || h <= 0 || h > 86400 {
					t.Errorf("%s: retry_after %d, Retry-After header %q; want both within 1..86400: %v", what, p.RetryAfter, a.header.Get("Retry-After"), a)
				}
				if i == 1 && tg.hits.get("429") != 1 {
					t.Errorf("%s reached the distributor (%d calls in all): the 429 did not pause the instance", what, tg.hits.get("429"))
				}
			}
		})
	}
	s.alive(t)
}

// dangerous reports whether href, read the way a browser reads it (ASCII
// whitespace and controls dropped, case folded), is anything but http or
// https.
func dangerous(href string) bool {
	var b strings.Builder
	for _, r := range href {
		if r > ' ' && r != 0x7f {
			b.WriteRune(r)
		}
	}
	h := strings.ToLower(b.String())
	return !strings.HasPrefix(h, "http:") && !strings.HasPrefix(h, "https:")
}

// Point 7: a distributor's link with a scheme other than http or https
// never reaches the loan JSON, a fulfillment, or a 303's Location; a
// malformed http link passes verbatim.
func TestAdversarialDangerousLinksNeverReachTheILS(t *testing.T) {
	hostile := []string{
		"javascript:alert(document.cookie)",
		"JaVaScRiPt:alert(1)",
		" javascript:alert(2)",
		"java\tscript:alert(3)",
		"data:text/html,<script>alert(4)</script>",
		"vbscript:msgbox(5)",
		"file:///etc/passwd",
	}
	const okHref = "https://ehub.example/ok/content_0"
	ehSim := newEHSim(ehubsim.WithLinksRecord("record-hostile", ehubsim.FormatEbook, append(append([]string{}, hostile...), okHref)...))
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb", "ehub")
	cfg.Providers["eh"] = advEHInstance(serve(t, ehSim))
	cbBases := []string{"javascript:alert(document.cookie)//", "data:text/html,<script>alert(1)</script>#", "JAVASCRIPT:alert(1)//"}
	var cbSims []*cbsim.Sim
	for i, base := range cbBases {
		sim := newCBSim(cbsim.WithDeliveryBaseURL(base))
		cbSims = append(cbSims, sim)
		cfg.Providers[fmt.Sprintf("cb-%d", i)] = advCBInstance(serve(t, sim))
	}
	s := startAdv(t, "server", cfg, nil)

	checkLinks := func(t *testing.T, what string, a answer) []host.Link {
		t.Helper()
		var v struct {
			Links []host.Link `json:"links"`
		}
		mustUnmarshal(t, a.body, &v)
		for _, l := range v.Links {
			if dangerous(l.Href) {
				t.Errorf("%s hands the ILS the link %q", what, l.Href)
			}
		}
		return v.Links
	}
	follow := func(t *testing.T, provider, loan string) {
		t.Helper()
		fa := s.do(http.MethodPost, "/v1/providers/"+provider+"/loans/"+loan+"/fulfillment", []byte(`{}`), "")
		if fa.status != http.StatusOK {
			if e := problemErr(fa); e != "" {
				t.Errorf("fulfillment: %s", e)
			}
			return
		}
		checkLinks(t, "the fulfillment", fa)
		var f host.Fulfillment
		mustUnmarshal(t, fa.body, &f)
		if f.Redirect == "" {
			return
		}
		u, err := url.Parse(f.Redirect)
		if err != nil {
			t.Fatalf("redirect %q: %v", f.Redirect, err)
		}
		r := s.open(http.MethodGet, u.RequestURI(), nil, nil)
		loc := r.header.Get("Location")
		switch {
		case r.err != nil:
			t.Errorf("following the redirect: %v", r.err)
		case r.status == http.StatusSeeOther && dangerous(loc):
			t.Errorf("the content redirect answers 303 to %q", loc)
		case r.status == http.StatusSeeOther:
		default:
			if e := problemErr(r); e != "" {
				t.Errorf("the content redirect: %s", e)
			}
		}
	}

	for i, base := range cbBases {
		t.Run("CB delivery URL "+base, func(t *testing.T) {
			provider := fmt.Sprintf("cb-%d", i)
			a := s.do(http.MethodPost, "/v1/providers/"+provider+"/loans", checkoutBody(cbsim.EANAvailable, "p-links"), "")
			if a.status != http.StatusCreated {
				if e := problemErr(a); e != "" {
					t.Errorf("checkout: %s", e)
				}
				// CB placed the order: the link is what must go, not the
				// loan (an ILS told 502 retryable orders again).
				if n := len(cbSims[i].Orders()); n > 0 {
					t.Errorf("CB placed the order, but the checkout answered %v; want 201 with the link dropped", a)
				}
				return
			}
			checkLinks(t, "the checkout", a)
			var l host.Loan
			mustUnmarshal(t, a.body, &l)
			var got host.Loan
			s.getJSON("/v1/providers/"+provider+"/loans/"+l.ID, &got)
			for _, k := range got.Links {
				if dangerous(k.Href) {
					t.Errorf("GET of the loan hands the ILS %q", k.Href)
				}
			}
			follow(t, provider, l.ID)
		})
	}

	t.Run("eHUB links of every dangerous scheme among a good one", func(t *testing.T) {
		a := s.do(http.MethodPost, "/v1/providers/eh/loans", mustJSON(host.CheckoutRequest{Item: "record-hostile", Patron: "p-links"}), "")
		if a.status != http.StatusCreated {
			t.Fatalf("checkout: %v", a)
		}
		links := checkLinks(t, "the checkout", a)
		kept := false
		for _, l := range links {
			kept = kept || l.Href == okHref
		}
		if !kept {
			t.Errorf("the https link was dropped with the others: %+v", links)
		}
		var l host.Loan
		mustUnmarshal(t, a.body, &l)
		follow(t, "eh", l.ID)
	})

	t.Run("a malformed http link still passes verbatim", func(t *testing.T) {
		a := s.do(http.MethodPost, "/v1/providers/eh/loans", mustJSON(host.CheckoutRequest{Item: ehubsim.RecordMultiFormat, Patron: "p-seed"}), "")
		if a.status != http.StatusCreated {
			t.Fatalf("checkout: %v", a)
		}
		if !strings.Contains(string(a.body), `"http:/localhost:16521/`) {
			t.Errorf("the seed's malformed http link did not pass verbatim: %s", a.body)
		}
	})
	s.alive(t)
}

// Point 8: the De Marque loan_url option cannot send the plugin anywhere
// but the distributor: a loan_url on another host (or port, or hidden
// behind userinfo) is invalid_request, and the other host gets nothing,
// not even through a redirect.
func TestAdversarialLoanURLStaysAtTheDistributor(t *testing.T) {
	foreignHits := &counter{}
	foreign := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.add(r.Method + " " + r.URL.Path)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"url":"https://reflected.example/REFLECTED-FROM-FOREIGN"}`))
	}))
	fu, _ := url.Parse(foreign)
	dmSim := newDMSim()
	f := &front{next: dmSim}
	f.set(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/hop"); ok {
			http.Redirect(w, r, foreign+rest, http.StatusTemporaryRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
	dmURL := serve(t, f)
	du, _ := url.Parse(dmURL)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "demarque")
	cfg.Providers["dm"] = advDMInstance(dmURL)
	s := startAdv(t, "server", cfg, nil)

	isbn := demarquesim.ISBNAvailable
	checkout := func(patron, loanURL string) answer {
		return s.do(http.MethodPost, "/v1/providers/dm/loans", mustJSON(host.CheckoutRequest{Item: isbn, Patron: patron,
			PatronName: "Jane Doe", Options: map[string]string{"loan_url": loanURL}}), "")
	}

	if a := checkout("p-control", dmSim.LoanURL(dmURL, isbn)); a.status != http.StatusCreated {
		t.Fatalf("control: a loan_url at the distributor: %v, want 201", a)
	}
	for i, c := range []struct{ name, loanURL string }{
		{"another port of the same address", foreign + "/loans/" + isbn},
		{"another name for it", "http://localhost:" + fu.Port() + "/loans/" + isbn},
		{"the distributor as userinfo", "http://" + du.Host + "@" + fu.Host + "/loans/" + isbn},
		{"another address", "http://127.0.0.2:" + fu.Port() + "/loans/" + isbn},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(dmSim.Loans())
			a := checkout(fmt.Sprintf("p-foreign-%d", i), c.loanURL)
			wantProblem(t, "checkout with loan_url "+c.loanURL, a, http.StatusBadRequest, "invalid_request")
			if strings.Contains(string(a.body), "REFLECTED-FROM-FOREIGN") {
				t.Errorf("the answer reflects the foreign host's answer: %s", a.body)
			}
			if len(dmSim.Loans()) != before {
				t.Errorf("the distributor got a loan")
			}
		})
	}
	t.Run("a redirect from the distributor's host to another", func(t *testing.T) {
		a := checkout("p-hop", dmURL+"/hop/loans/"+isbn)
		if a.status < 400 {
			t.Errorf("checkout through a redirect to another host: %v, want an error", a)
		} else if e := problemErr(a); e != "" {
			t.Error(e)
		}
		if strings.Contains(string(a.body), "REFLECTED-FROM-FOREIGN") {
			t.Errorf("the answer reflects the foreign host's answer: %s", a.body)
		}
	})
	if foreignHits.String() != "map[]" {
		t.Errorf("the foreign host received requests: %v", foreignHits)
	}
}

// Point 10: what a distributor answers through a plugin is size-capped in
// the JSON the ILS gets: a 2 MB link list, a 2 MB error message.
func TestAdversarialPluginAnswersAreCapped(t *testing.T) {
	var links []string
	for i := 0; len(links)*100 < 2<<20; i++ {
		links = append(links, fmt.Sprintf("https://ehub.example/ep/api/v1/records/huge/ebook/%06d/%s", i, strings.Repeat("x", 40)))
	}
	huge := strings.Repeat("A distributor that talks too much. ", (2<<20)/35)
	ehSim := newEHSim(
		ehubsim.WithLinksRecord("record-2mb-links", ehubsim.FormatEbook, links...),
		ehubsim.WithFailingRecord("record-2mb-message", http.StatusConflict, "PRODUCT_UNAVAILABLE", huge),
		ehubsim.WithFailingRecord("record-2mb-code", http.StatusConflict, strings.Repeat("C", 2<<20), "short"),
	)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "ehub")
	cfg.Providers["eh"] = advEHInstance(serve(t, ehSim))
	s := startAdv(t, "server", cfg, nil)
	const capJSON = 1 << 20 // half of what the distributor sent

	t.Run("a 2 MB link list", func(t *testing.T) {
		a := s.do(http.MethodPost, "/v1/providers/eh/loans", mustJSON(host.CheckoutRequest{Item: "record-2mb-links", Patron: "p-huge"}), "")
		t.Logf("checkout answered %d with %d bytes", a.status, len(a.body))
		if len(a.body) > capJSON {
			t.Errorf("the checkout's answer is %d bytes for a %d-link list, want it capped (≤ %d)", len(a.body), len(links), capJSON)
		}
		if a.status != http.StatusCreated {
			if e := problemErr(a); e != "" {
				t.Error(e)
			}
			return
		}
		var l host.Loan
		mustUnmarshal(t, a.body, &l)
		if g := s.do(http.MethodGet, "/v1/providers/eh/loans/"+l.ID, nil, ""); len(g.body) > capJSON {
			t.Errorf("GET of the loan is %d bytes", len(g.body))
		}
		if f := s.do(http.MethodPost, "/v1/providers/eh/loans/"+l.ID+"/fulfillment", []byte(`{}`), ""); len(f.body) > capJSON {
			t.Errorf("the fulfillment is %d bytes", len(f.body))
		}
	})
	for _, rec := range []string{"record-2mb-message", "record-2mb-code"} {
		t.Run(rec, func(t *testing.T) {
			a := s.do(http.MethodPost, "/v1/providers/eh/loans", mustJSON(host.CheckoutRequest{Item: rec, Patron: "p-huge"}), "")
			if e := problemErr(a); e != "" {
				t.Error(e)
			}
			if len(a.body) > 16<<10 {
				t.Errorf("the problem is %d bytes, want it capped (≤ 16 KiB)", len(a.body))
			}
		})
	}
	s.alive(t)
}
