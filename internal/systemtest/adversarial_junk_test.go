//go:build linux

package systemtest

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

// advContentSig is api.md §4's redirect signature under advSecret.
func advContentSig(provider, loan, format string, exp int64) string {
	m := hmac.New(sha256.New, []byte(advSecret))
	m.Write([]byte(strings.Join([]string{provider, loan, format, strconv.FormatInt(exp, 10)}, "|")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// junk is one hostile request and what it may be answered.
type junk struct {
	name         string
	method, path string
	header       http.Header
	body         []byte
	// status, when set, is the status the contract gives.
	status int
	// ok2xx: a success is a fine answer too (the request is odd, not wrong).
	ok2xx bool
}

// key is the header of an authenticated JSON request.
func key() http.Header {
	return http.Header{"Authorization": {"Bearer " + testAPIKey}, "Content-Type": {"application/json"}}
}

// judge says what is wrong with a as the answer to j ("" when nothing).
func judge(j junk, a answer) string {
	switch {
	case a.err != nil:
		return "no answer: " + a.err.Error()
	case a.status >= 300 && a.status < 400:
		// ServeMux's redirect to a cleaned path is fine as long as it
		// stays on this server.
		loc := a.header.Get("Location")
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
			return fmt.Sprintf("redirect %d to %q", a.status, loc)
		}
		return ""
	case a.status < 300:
		if j.ok2xx {
			return ""
		}
		return fmt.Sprintf("answered %d: %.200s", a.status, a.body)
	}
	if e := problemErr(a); e != "" {
		return e
	}
	if j.status != 0 && a.status != j.status {
		return fmt.Sprintf("%s, want status %d", a, j.status)
	}
	return ""
}

// The junk a careful attacker sends: traversal and encoded slashes, header
// and body junk, huge and deeply nested JSON, unknown fields, invalid
// UTF-8, forged notification tokens and content signatures, expired and
// tampered redirect URLs, odd methods and queries. Every answer is a
// problem with a code of api.md §3 (or a redirect that stays on this
// server), and the server still lends after.
func TestAdversarialJunkAnswersProblems(t *testing.T) {
	dmSim := newDMSim()
	dmURL := serve(t, dmSim)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb", "demarque")
	cfg.Providers["cb"] = advCBInstance(serve(t, newCBSim()))
	cfg.Providers["dm"] = advDMInstance(dmURL)
	s := startAdv(t, "server", cfg, nil)

	co := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, "p-junk"), "")
	if co.status != http.StatusCreated {
		t.Fatalf("checkout: %v", co)
	}
	var loan host.Loan
	mustUnmarshal(t, co.body, &loan)
	dmLoan := s.dmCheckout(t, dmSim, dmURL, "p-junk", "Jane")
	l, _ := dmSim.Loan(dmLoan.ID)
	token := l.NotifyURL[strings.LastIndexByte(l.NotifyURL, '/')+1:]

	checkout := "/v1/providers/cb/loans"
	body := func(s string) []byte { return []byte(s) }
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	manyOpts := map[string]string{}
	for i := range 10000 {
		manyOpts[fmt.Sprintf("opt%d", i)] = "x"
	}
	now := time.Now()
	content := func(provider, loan, format, exp, sig string) string {
		return "/v1/providers/" + provider + "/loans/" + loan + "/content?format=" + format + "&exp=" + exp + "&sig=" + url.QueryEscape(sig)
	}
	in5 := now.Add(5 * time.Minute).Unix()
	past := now.Add(-time.Minute).Unix()
	in1h := now.Add(time.Hour).Unix()

	groups := map[string][]junk{
		"paths": {
			{name: "dot-dot to admin", method: "GET", path: "/v1/providers/../admin/plugins/cb/reload"},
			{name: "dot-dot to events", method: "GET", path: "/v1/providers/cb/loans/../../../events"},
			{name: "encoded dot-dot", method: "GET", path: "/v1/providers/%2e%2e/%2e%2e/events", header: key()},
			{name: "encoded slash in provider", method: "GET", path: "/v1/providers/cb%2Floans?status=active", header: key(), status: 404},
			{name: "encoded slashes in loan", method: "GET", path: "/v1/providers/cb/loans/..%2F..%2F..%2Fevents", header: key(), status: 404},
			{name: "double slash", method: "GET", path: "//v1/providers", header: key()},
			{name: "open redirect attempt", method: "GET", path: "//evil.example/%2e%2e"},
			{name: "backslash", method: "GET", path: "/v1/providers/cb/loans/..\\..\\events", header: key()},
			{name: "NUL in loan", method: "GET", path: "/v1/providers/cb/loans/%00", header: key()},
			{name: "invalid UTF-8 provider", method: "GET", path: "/v1/providers/%ff%fe/loans?patron=p", header: key(), status: 404},
			{name: "100 KB provider", method: "GET", path: "/v1/providers/" + strings.Repeat("p", 100<<10), header: key(), status: 404},
			{name: "no such endpoint", method: "GET", path: "/%2e%2e/%2e%2e/etc/passwd"},
			{name: "admin with API key", method: "POST", path: "/v1/admin/plugins/cb/reload", header: key(), body: body(`{}`), status: 403},
			{name: "admin without key", method: "POST", path: "/v1/admin/plugins/cb/reload", body: body(`{}`), status: 401},
			{name: "unknown provider", method: "GET", path: "/v1/providers/nope", header: key(), status: 404},
			{name: "other provider's loan", method: "GET", path: "/v1/providers/dm/loans/" + loan.ID, header: key(), status: 404},
		},
		"queries": {
			{name: "junk cursor", method: "GET", path: "/v1/events?after=../../etc/passwd", header: key(), ok2xx: true},
			{name: "negative limit", method: "GET", path: "/v1/events?limit=-1", header: key(), status: 400},
			{name: "huge limit", method: "GET", path: "/v1/events?limit=99999999999999999999", header: key(), ok2xx: true},
			{name: "loans without patron", method: "GET", path: "/v1/providers/cb/loans", header: key(), status: 400},
			{name: "junk status", method: "GET", path: "/v1/providers/cb/loans?status=%00%ff", header: key(), ok2xx: true},
			{name: "junk patron", method: "GET", path: "/v1/providers/cb/loans?patron=" + url.QueryEscape("../../x\x00"), header: key(), status: 400},
		},
		"headers": {
			{name: "10 KB bearer", method: "GET", path: "/v1/providers", header: http.Header{"Authorization": {"Bearer " + strings.Repeat("k", 10<<10)}}, status: 401},
			{name: "basic auth", method: "GET", path: "/v1/providers", header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, status: 401},
			{name: "bearer without key", method: "GET", path: "/v1/providers", header: http.Header{"Authorization": {"Bearer"}}, status: 401},
			{name: "bearer with key prefix", method: "GET", path: "/v1/providers", header: http.Header{"Authorization": {"Bearer " + testAPIKey[:len(testAPIKey)-1]}}, status: 401},
			{name: "10 KB Idempotency-Key", method: "POST", path: checkout, header: withHeader(key(), "Idempotency-Key", strings.Repeat("i", 10<<10)), body: checkoutBody(cbsim.EANAvailable2, "p-j1"), status: 400},
			{name: "101-character Idempotency-Key", method: "POST", path: checkout, header: withHeader(key(), "Idempotency-Key", strings.Repeat("i", 101)), body: checkoutBody(cbsim.EANAvailable2, "p-j2"), status: 400},
			{name: "Idempotency-Key with a tab", method: "POST", path: checkout, header: withHeader(key(), "Idempotency-Key", "k\tk"), body: checkoutBody(cbsim.EANAvailable2, "p-j2b"), ok2xx: true},
			{name: "text/plain body", method: "POST", path: checkout, header: withHeader(key(), "Content-Type", "text/plain"), body: checkoutBody(cbsim.EANAvailable2, "p-j3")},
			{name: "100 junk headers", method: "GET", path: "/v1/providers", header: manyHeaders(key(), 100, 1000), ok2xx: true},
		},
		"bodies": {
			{name: "truncated JSON", method: "POST", path: checkout, header: key(), body: body(`{"item":`), status: 400},
			{name: "array", method: "POST", path: checkout, header: key(), body: body(`[]`), status: 400},
			{name: "null", method: "POST", path: checkout, header: key(), body: body(`null`), status: 400},
			{name: "string", method: "POST", path: checkout, header: key(), body: body(`"x"`), status: 400},
			{name: "empty object", method: "POST", path: checkout, header: key(), body: body(`{}`), status: 400},
			{name: "empty body", method: "POST", path: checkout, header: key(), body: body(``), status: 400},
			{name: "two values", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"a"}{}`), status: 400},
			{name: "unknown field", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j4","evil":true}`), status: 400},
			{name: "unknown option", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j5","options":{"loan_url":"http://x"}}`), status: 400},
			{name: "900 KB item", method: "POST", path: checkout, header: key(), body: mustJSON(map[string]string{"item": strings.Repeat("9", 900<<10), "patron": "p-j6"}), status: 400},
			{name: "over 1 MiB", method: "POST", path: checkout, header: key(), body: mustJSON(map[string]string{"item": strings.Repeat("9", 1100<<10), "patron": "p-j7"}), status: 413},
			{name: "deep nesting", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j8","options":` + deep + `}`), status: 400},
			{name: "10000 options", method: "POST", path: checkout, header: key(), body: mustJSON(map[string]any{"item": cbsim.EANAvailable2, "patron": "p-j9", "options": manyOpts}), status: 400},
			{name: "invalid UTF-8 patron", method: "POST", path: checkout, header: key(), body: []byte("{\"item\":\"9789084999813\",\"patron\":\"p\xff\xfe\"}"), status: 400},
			{name: "NUL in patron", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p\u0000x"}`), status: 400},
			{name: "patron traversal", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"../../etc"}`), status: 400},
			{name: "days 1e400", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j10","days":1e400}`), status: 400},
			{name: "days huge", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j11","days":2147483648000}`), status: 400},
			{name: "days negative", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j12","days":-5}`), status: 400},
			{name: "option of wrong type", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999813","patron":"p-j13","options":{"reading_method":5}}`), status: 400},
			{name: "bad check digit", method: "POST", path: checkout, header: key(), body: body(`{"item":"9789084999814","patron":"p-j14","options":{"reading_method":"D","protection":"03"}}`), status: 400},
			{name: "fullwidth digits", method: "POST", path: checkout, header: key(), body: body(`{"item":"９７８９０８４９９９８１３","patron":"p-j15"}`), status: 400},
			{name: "BOM", method: "POST", path: checkout, header: key(), body: append([]byte("\xef\xbb\xbf"), checkoutBody(cbsim.EANAvailable2, "p-j16")...), status: 400},
			{name: "renewal junk days", method: "POST", path: "/v1/providers/cb/loans/" + loan.ID + "/renewal", header: key(), body: body(`{"days":"seven"}`), status: 400},
			{name: "fulfillment unknown field", method: "POST", path: "/v1/providers/cb/loans/" + loan.ID + "/fulfillment", header: key(), body: body(`{"format":"epub","x":1}`), status: 400},
			{name: "reload junk", method: "POST", path: "/v1/admin/plugins/cb/reload", header: withHeader(key(), "Authorization", "Bearer "+advAdminKey), body: body(`{"sha256":"` + strings.Repeat("z", 64) + `"}`)},
		},
		"notification tokens": {
			{name: "random", method: "POST", path: "/v1/notifications/dm/" + randName(43), body: body(`{"type":"return"}`), status: 404},
			{name: "loan id and junk mac", method: "POST", path: "/v1/notifications/dm/" + dmLoan.ID + "." + strings.Repeat("A", 43), body: body(`{"type":"return"}`), status: 404},
			{name: "dot only", method: "POST", path: "/v1/notifications/dm/.", body: body(`{}`), status: 404},
			{name: "another provider's token", method: "POST", path: "/v1/notifications/cb/" + token, body: body(`{"type":"return"}`), status: 404},
			{name: "one character changed", method: "POST", path: "/v1/notifications/dm/" + flipLast(token), body: body(`{"type":"return"}`), status: 404},
			{name: "another loan's id", method: "POST", path: "/v1/notifications/dm/" + loan.ID + token[strings.IndexByte(token, '.'):], body: body(`{"type":"return"}`), status: 404},
			{name: "encoded traversal", method: "POST", path: "/v1/notifications/dm/%2e%2e%2f%2e%2e%2fevents", body: body(`{}`), status: 404},
			{name: "GET", method: "GET", path: "/v1/notifications/dm/" + token},
			{name: "real token, body over 64 KiB", method: "POST", path: "/v1/notifications/dm/" + token, body: []byte(`{"type":"return","x":"` + strings.Repeat("x", 70<<10) + `"}`)},
			{name: "real token, junk body", method: "POST", path: "/v1/notifications/dm/" + token, body: []byte("\x00\xff{{{"), status: 400},
		},
		"content signatures": {
			{name: "random sig", method: "GET", path: content("cb", loan.ID, "epub", fmt.Sprint(in5), randName(43)), status: 403},
			{name: "no sig", method: "GET", path: "/v1/providers/cb/loans/" + loan.ID + "/content?format=epub&exp=" + fmt.Sprint(in5), status: 403},
			{name: "no query", method: "GET", path: "/v1/providers/cb/loans/" + loan.ID + "/content", status: 403},
			{name: "expired, signed", method: "GET", path: content("cb", loan.ID, "epub", fmt.Sprint(past), advContentSig("cb", loan.ID, "epub", past)), status: 403},
			{name: "an hour ahead, signed", method: "GET", path: content("cb", loan.ID, "epub", fmt.Sprint(in1h), advContentSig("cb", loan.ID, "epub", in1h)), status: 403},
			{name: "exp overflows", method: "GET", path: content("cb", loan.ID, "epub", "99999999999999999999", advContentSig("cb", loan.ID, "epub", 0)), status: 403},
			{name: "exp negative, signed", method: "GET", path: content("cb", loan.ID, "epub", "-1", advContentSig("cb", loan.ID, "epub", -1)), status: 403},
			{name: "other format", method: "GET", path: content("cb", loan.ID, "pdf", fmt.Sprint(in5), advContentSig("cb", loan.ID, "epub", in5)), status: 403},
			{name: "other provider", method: "GET", path: content("dm", loan.ID, "epub", fmt.Sprint(in5), advContentSig("cb", loan.ID, "epub", in5))},
			{name: "padded junk sig", method: "GET", path: content("cb", loan.ID, "epub", fmt.Sprint(in5), "===="), status: 403},
			{name: "sig of a loan that does not exist", method: "GET", path: content("cb", "ln_NOPE", "epub", fmt.Sprint(in5), advContentSig("cb", "ln_NOPE", "epub", in5)), status: 404},
		},
		"methods": {
			{name: "PUT", method: "PUT", path: "/v1/providers", header: key(), status: 405},
			{name: "PATCH", method: "PATCH", path: checkout, header: key(), body: body(`{}`), status: 405},
			{name: "TRACE", method: "TRACE", path: "/v1/providers"},
			{name: "invented", method: "BREW", path: "/v1/providers", header: key()},
			{name: "DELETE provider", method: "DELETE", path: "/v1/providers/cb", header: key(), status: 405},
		},
	}
	for _, g := range []string{"paths", "queries", "headers", "bodies", "notification tokens", "content signatures", "methods"} {
		t.Run(g, func(t *testing.T) {
			for _, j := range groups[g] {
				a := s.open(j.method, j.path, j.header, j.body)
				if e := judge(j, a); e != "" {
					t.Errorf("%s: %s", j.name, e)
				}
			}
		})
	}

	t.Run("a signed redirect of our own still works", func(t *testing.T) {
		a := s.open(http.MethodGet, content("cb", loan.ID, "epub", fmt.Sprint(in5), advContentSig("cb", loan.ID, "epub", in5)), nil, nil)
		if a.status != http.StatusSeeOther || a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("a correctly signed redirect: %v (Location %q, Cache-Control %q), want 303 no-store",
				a, a.header.Get("Location"), a.header.Get("Cache-Control"))
		}
	})

	t.Run("the Host header does not steer the redirect", func(t *testing.T) {
		h := key()
		h.Set("X-Forwarded-Host", "evil.example")
		req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/providers/cb/loans/"+loan.ID+"/fulfillment", strings.NewReader(`{}`))
		req.Header = h
		req.Host = "evil.example"
		a := sendReq(noRedirects, req)
		if a.status != http.StatusOK {
			t.Fatalf("fulfillment: %v", a)
		}
		var f host.Fulfillment
		mustUnmarshal(t, a.body, &f)
		if !strings.HasPrefix(f.Redirect, cfg.PublicURL+"/") {
			t.Errorf("redirect %q does not start with public_url %s", f.Redirect, cfg.PublicURL)
		}
	})

	t.Run("malformed HTTP", func(t *testing.T) {
		for _, raw := range []string{
			"GET /v1/providers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
			"POST /v1/providers/cb/loans HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
			"GET /v1/providers HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
			"GET /v1/\x00providers HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /v1/providers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
		} {
			line, err := rawExchange(addr, raw)
			if err == nil && strings.Contains(line, " 5") {
				t.Errorf("%q answered %q", raw, line)
			}
		}
	})

	t.Run("an Idempotency-Key reused for another request", func(t *testing.T) {
		const k = "reused-key"
		if a := s.do(http.MethodPost, checkout, checkoutBody(cbsim.EANAvailable2, "p-key-1"), k); a.status != http.StatusCreated {
			t.Fatalf("first use: %v", a)
		}
		for _, other := range [][]byte{
			checkoutBody(cbsim.EANAvailable2, "p-key-2"),
			checkoutBody(cbsim.EANAvailable, "p-key-1"),
		} {
			wantProblem(t, "the key with another body", s.do(http.MethodPost, checkout, other, k), http.StatusUnprocessableEntity, "idempotency_mismatch")
		}
	})

	t.Run("a replayed notification changes nothing", func(t *testing.T) {
		ctx := t.Context()
		for i := range 3 {
			if err := dmSim.Return(ctx, dmLoan.ID); err != nil {
				t.Fatalf("delivery %d: %v", i+1, err)
			}
		}
		if n := countEvents(s.events(), dmLoan.ID, "loan.returned"); n != 1 {
			t.Errorf("%d loan.returned events for one return delivered 3 times, want 1", n)
		}
	})

	t.Run("the event log holds only the event types of §5 and §7", func(t *testing.T) {
		known := map[string]bool{"loan.created": true, "loan.renewed": true, "loan.returned": true, "loan.expired": true,
			"loan.revoked": true, "loan.notified": true, "loan.resolved": true}
		for _, e := range s.events() {
			if !known[e.Type] {
				t.Errorf("event %s has type %q", e.ID, e.Type)
			}
		}
	})

	s.alive(t)
	if a := s.do(http.MethodPost, checkout, checkoutBody(cbsim.EANAvailable2, "p-after-junk"), ""); a.status != http.StatusCreated {
		t.Errorf("checkout after the junk: %v", a)
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	h = h.Clone()
	h.Set(k, v)
	return h
}

func manyHeaders(h http.Header, n, size int) http.Header {
	h = h.Clone()
	for i := range n {
		h.Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("j", size))
	}
	return h
}

// flipLast changes the last character of s.
func flipLast(s string) string {
	c := s[len(s)-1]
	if c == 'A' {
		c = 'B'
	} else {
		c = 'A'
	}
	return s[:len(s)-1] + string(c)
}

// rawExchange writes raw bytes on a new connection and returns the status
// line of the answer, if any, within 3 s.
func rawExchange(addr, raw string) (string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(raw)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), err
}

// Point 12: the Bearer scheme is matched case-insensitively.
func TestAdversarialBearerSchemeIsCaseInsensitive(t *testing.T) {
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb")
	cfg.Providers["cb"] = advCBInstance(serve(t, newCBSim()))
	s := startAdv(t, "server", cfg, nil)
	for _, scheme := range []string{"bearer", "BEARER", "BeArEr"} {
		a := s.open(http.MethodGet, "/v1/providers", http.Header{"Authorization": {scheme + " " + testAPIKey}}, nil)
		if a.status != http.StatusOK {
			t.Errorf("Authorization: %s <key>: %v, want 200", scheme, a)
		}
		b := s.open(http.MethodGet, "/v1/providers", http.Header{"Authorization": {scheme + " not-the-key"}}, nil)
		wantProblem(t, "Authorization: "+scheme+" <wrong key>", b, http.StatusUnauthorized, "unauthorized")
	}
}

// Point 12: a leaked redirect URL, used again and again, does not turn
// into a distributor call each time (which would use up the instance's
// rate limit for everyone).
func TestAdversarialLeakedRedirectCannotDrainTheDistributor(t *testing.T) {
	eh := newEHSim()
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "ehub")
	cfg.Providers["eh"] = advEHInstance(serve(t, eh))
	s := startAdv(t, "server", cfg, nil)

	a := s.do(http.MethodPost, "/v1/providers/eh/loans", mustJSON(host.CheckoutRequest{Item: ehubsim.RecordEbook, Patron: "p-leak"}), "")
	if a.status != http.StatusCreated {
		t.Fatalf("checkout: %v", a)
	}
	var l host.Loan
	mustUnmarshal(t, a.body, &l)
	fa := s.do(http.MethodPost, "/v1/providers/eh/loans/"+l.ID+"/fulfillment", []byte(`{}`), "")
	var f host.Fulfillment
	mustUnmarshal(t, fa.body, &f)
	u, err := url.Parse(f.Redirect)
	if err != nil || f.Redirect == "" {
		t.Fatalf("fulfillment: %v", fa)
	}
	before := eh.CallsFor(ehubsim.OpGet)
	answers := &counter{}
	const uses = 20
	for range uses {
		r := s.open(http.MethodGet, u.RequestURI(), nil, nil)
		switch {
		case r.err != nil:
			answers.add("lost")
		case r.status == http.StatusSeeOther:
			answers.add("303")
		default:
			answers.add(fmt.Sprintf("%d %s", r.status, r.code()))
			if e := problemErr(r); e != "" {
				t.Errorf("use of the leaked URL: %s", e)
			}
		}
	}
	calls := eh.CallsFor(ehubsim.OpGet) - before
	t.Logf("%d uses of one redirect URL: answers %v, %d fulfillment calls at eHUB", uses, answers, calls)
	if calls > 5 {
		t.Errorf("%d uses of one leaked redirect URL made %d calls to eHUB, want far fewer", uses, calls)
	}
}
