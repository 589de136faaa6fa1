package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Amsterdam, wherever the test runs

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testpatron"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// Secrets of the CB tests: distinctive, so that a leak into the logs cannot
// be a coincidence.
const (
	cbAccountPassword = "cb-basic-pw-4Rt9qZ" // the instance's Basic auth password (setting)
	cbReaderPassword  = "reader-pw-Vx81Lk0p" // a Bookshelf user's password (access checks)
	cbReader          = "reader-7"           // a Bookshelf user known by its own id
	cbReaderGranted   = cbsim.EANAvailable2  // what the reader may read without an order
	cbBadCheckDigit   = "9999999999999"      // CB's own "unavailable" example
	cbPatron          = "patron-42"          // the ILS's patron id
	cbOtherPatron     = "someone-else"       // another ILS patron
	cbMain            = "cb-main"            // pseudonyms, the default
	cbAccess          = "cb-access"          // send_patron_id: Bookshelf users by their own id
	cbUnknownReader   = "reader-nobody"      // not a Bookshelf user: EBS-10038
	cbLoans           = "/v1/providers/cb-main/loans"
)

// pseudonymOf is the pseudonym host/doc.go documents, computed here
// independently: the key of instance I is HMAC-SHA256(secret, "patron|"+I),
// the pseudonym the first 32 hex characters of HMAC-SHA256(key, patron id).
func pseudonymOf(instance, patron string) string {
	return testpatron.Pseudonym(testSecret, instance, patron)
}

// cbTamper sits between the plugin and the simulator. When armed, it alters
// the next placeOrder body: the only way to make CB see what the plugin
// never sends (a reused OrderReference, a malformed field, another UserId),
// so that those rows of the error table are answered by the simulator and
// mapped by the real plugin.
type cbTamper struct {
	mu    sync.Mutex
	alter func(body map[string]any)
}

func (c *cbTamper) arm(f func(map[string]any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alter = f
}

func (c *cbTamper) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/"+cbsim.OpPlaceOrder) {
			c.mu.Lock()
			f := c.alter
			c.alter = nil
			c.mu.Unlock()
			if f != nil {
				b, _ := io.ReadAll(r.Body)
				var m map[string]any
				if json.Unmarshal(b, &m) == nil {
					f(m)
					b, _ = json.Marshal(m)
				}
				r.Body = io.NopCloser(bytes.NewReader(b))
				r.ContentLength = int64(len(b))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// cbEnv is a host with the real cb plugin in front of its simulator, on
// two instances of the one plugin.
type cbEnv struct {
	*env
	sim    *cbsim.Sim
	tamper *cbTamper
}

func startCB(t *testing.T) *cbEnv {
	t.Helper()
	sim := cbsim.New(
		cbsim.WithCredentials(cbsim.DefaultUsername, cbAccountPassword),
		cbsim.WithUser(cbReader, cbReaderPassword),
		cbsim.WithGrant(cbReader, cbReaderGranted),
		// The pseudonym is what CB knows of patron-42 on cb-main.
		cbsim.WithUser(pseudonymOf(cbMain, cbPatron), cbReaderPassword),
	)
	tamper := &cbTamper{}
	simSrv := httptest.NewServer(tamper.wrap(sim))
	t.Cleanup(simSrv.Close)
	settings := map[string]string{"base_url": cbsim.BaseURL(simSrv.URL), "username": cbsim.DefaultUsername, "password": cbAccountPassword}
	instance := func(sendPatronID bool) host.ProviderConfig {
		return host.ProviderConfig{
			Plugin: "cb", Settings: settings, Defaults: host.Defaults{Format: "epub", Days: 21},
			// Not the subject here: roomy, so that no call waits for a token.
			Rate:         host.RateConfig{PerSecond: 1000, Burst: 1000},
			SendPatronID: sendPatronID, AllowInsecureHTTP: true,
		}
	}
	cfg := pluginConfig(t, "cb", map[string]host.ProviderConfig{cbMain: instance(false), cbAccess: instance(true)})
	return &cbEnv{env: start(t, cfg), sim: sim, tamper: tamper}
}

func cbBody(item, patron string, options map[string]string) map[string]any {
	b := map[string]any{"item": item, "patron": patron}
	if options != nil {
		b["options"] = options
	}
	return b
}

// upstreamOrders returns how many placeOrder calls reached the simulator.
func (c *cbEnv) upstreamOrders() int { return c.sim.CallsTo(cbsim.OpPlaceOrder) }

func TestCBEndToEnd(t *testing.T) {
	c := startCB(t)
	start := time.Now()
	l := checkout(c.env, cbMain, cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"reading_method": "D", "protection": "03"}))
	ref := l.ProviderRef["cb_order_reference"]
	if ref == "" || l.Status != "active" || l.Format != "epub" || l.Item != cbsim.EANAvailable || l.Patron != cbPatron {
		t.Fatalf("loan %+v", l)
	}
	if l.ExpiresAt == nil || l.ExpiresAt.Sub(start) < 21*24*time.Hour-time.Minute || l.ExpiresAt.Sub(start) > 21*24*time.Hour+time.Minute {
		t.Errorf("expires_at %v, want 21 days from now", l.ExpiresAt)
	}
	first, ok := c.sim.Order(l.ID)
	if !ok {
		t.Fatalf("CB has no order with OrderReference %s (the loan id)", l.ID)
	}
	if first.CbOrderReference != ref || first.EAN != cbsim.EANAvailable || first.ReadingMethod != "D" || first.Protection != "03" || first.Units != 21 || first.AdditionTo != "" {
		t.Errorf("CB's order %+v, loan's provider_ref %v", first, l.ProviderRef)
	}
	// Privacy: CB knows the instance's pseudonym of the patron, never the
	// ILS's patron id.
	if first.UserID == cbPatron || first.UserID != pseudonymOf(cbMain, cbPatron) {
		t.Errorf("CB saw UserId %q, want the pseudonym %q", first.UserID, pseudonymOf(cbMain, cbPatron))
	}
	if len(l.Links) != 1 || l.Links[0].Href != first.URL || l.Links[0].Rel != "content" {
		t.Errorf("links %+v, want the order's URL %s", l.Links, first.URL)
	}

	// Fulfillment: the order's URL, with no call to CB (it has none).
	calls := c.sim.Calls()
	var f host.Fulfillment
	r := c.do("POST", cbLoans+"/"+l.ID+"/fulfillment", nil)
	r.json(t, &f)
	if r.status != 200 || len(f.Links) != 1 || f.Links[0].Href != first.URL || f.Links[0].Format != "epub" {
		t.Fatalf("fulfillment %d %s", r.status, r.body)
	}
	u, err := url.Parse(f.Redirect)
	if err != nil || f.Redirect == "" {
		t.Fatalf("redirect %q: %v", f.Redirect, err)
	}
	r = c.do("GET", u.RequestURI(), nil, "Authorization", "")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != first.URL || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("content redirect %d Location %q Cache-Control %q", r.status, r.header.Get("Location"), r.header.Get("Cache-Control"))
	}
	if c.sim.Calls() != calls {
		t.Errorf("fulfillment called CB %d times; CB has no such call", c.sim.Calls()-calls)
	}

	// Renewal: an addition to the first order, by the same UserId, under a
	// new OrderReference.
	var renewed host.Loan
	r = c.do("POST", cbLoans+"/"+l.ID+"/renewal", map[string]any{"days": 7})
	r.json(t, &renewed)
	if r.status != 200 {
		t.Fatalf("renewal %d %s", r.status, r.body)
	}
	addition, ok := c.sim.Order(renewed.ProviderRef["last_order_reference"])
	if !ok {
		t.Fatalf("CB has no order for the renewal; provider_ref %v, orders %+v", renewed.ProviderRef, c.sim.Orders())
	}
	if addition.AdditionTo != first.CbOrderReference || addition.OrderReference == first.OrderReference ||
		addition.CbOrderReference == first.CbOrderReference || addition.UserID != first.UserID ||
		addition.Units != 7 || addition.EAN != first.EAN || addition.ReadingMethod != "D" || addition.Protection != "03" {
		t.Errorf("addition %+v to first order %+v", addition, first)
	}
	if len(c.sim.Orders()) != 2 {
		t.Errorf("CB holds %d orders, want 2", len(c.sim.Orders()))
	}
	if renewed.ProviderRef["cb_order_reference"] != first.CbOrderReference || renewed.ProviderRef["last_cb_order_reference"] != addition.CbOrderReference {
		t.Errorf("provider_ref after renewal %v", renewed.ProviderRef)
	}
	if renewed.ExpiresAt == nil {
		t.Fatalf("renewed loan without expiry: %s", r.body)
	}
	if d := renewed.ExpiresAt.Sub(*l.ExpiresAt); d < 7*24*time.Hour-time.Second || d > 7*24*time.Hour+time.Second {
		t.Errorf("expiry moved from %v to %v, want 7 days later", l.ExpiresAt, renewed.ExpiresAt)
	}

	// Renewal on behalf of another patron: refused by the host, nothing
	// reaches CB.
	orders := c.upstreamOrders()
	p := c.expectProblem(c.do("POST", cbLoans+"/"+l.ID+"/renewal", map[string]any{"days": 7, "patron": cbOtherPatron}), 409, "patron_mismatch")
	if p.Provider != cbMain {
		t.Errorf("problem provider %q", p.Provider)
	}
	// Beyond CB's 21 days: refused by the plugin before any call.
	c.expectProblem(c.do("POST", cbLoans+"/"+l.ID+"/renewal", map[string]any{"days": 22}), 400, "invalid_request")
	if got := c.upstreamOrders(); got != orders || len(c.sim.Orders()) != 2 {
		t.Errorf("refused renewals reached CB: %d calls, %d orders", got-orders, len(c.sim.Orders()))
	}
	// Return is not documented by CB.
	c.expectProblem(c.do("DELETE", cbLoans+"/"+l.ID, nil), 501, "unsupported_operation")

	var stored host.Loan
	c.do("GET", cbLoans+"/"+l.ID, nil).json(t, &stored)
	if stored.Status != "active" || stored.ExpiresAt == nil || !stored.ExpiresAt.Equal(*renewed.ExpiresAt) {
		t.Errorf("stored loan %+v", stored)
	}
	var page host.EventPage
	c.do("GET", "/v1/events", nil).json(t, &page)
	if len(page.Events) != 2 || page.Events[0].Type != "loan.created" || page.Events[1].Type != "loan.renewed" || page.Events[1].Data["days"] != "7" {
		t.Errorf("events %+v", page.Events)
	}
}

// TestCBRefusedLocally: what CB would refuse never reaches it.
func TestCBRefusedLocally(t *testing.T) {
	c := startCB(t)
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"seed's EAN with a wrong check digit", cbBody(cbBadCheckDigit, cbPatron, nil), 400, "invalid_request"},
		{"CR with protection 03", cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"reading_method": "CR", "protection": "03"}), 422, "unsupported_combination"},
		{"D with protection 00", cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"reading_method": "D", "protection": "00"}), 422, "unsupported_combination"},
		{"CR with protection 00", cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"reading_method": "CR", "protection": "00"}), 422, "unsupported_combination"},
		{"protection 00 with the default method", cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"protection": "00"}), 422, "unsupported_combination"},
		{"22 days", mergeBody(cbBody(cbsim.EANAvailable, cbPatron, nil), "days", 22), 400, "invalid_request"},
		{"unknown reading method", cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"reading_method": "X"}), 400, "invalid_request"},
		{"unknown option", cbBody(cbsim.EANAvailable, cbPatron, map[string]string{"colour": "red"}), 400, "invalid_request"},
		{"format CB does not offer", mergeBody(cbBody(cbsim.EANAvailable, cbPatron, nil), "format", "mobi"), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			calls := c.sim.Calls()
			p := c.expectProblem(c.do("POST", cbLoans, tt.body), tt.status, tt.code)
			if p.ProviderCode != "" {
				t.Errorf("provider_code %q for a local refusal", p.ProviderCode)
			}
			if got := c.sim.Calls(); got != calls {
				t.Errorf("%d calls reached CB, want none", got-calls)
			}
		})
	}
	c.t = t
	if c.sim.Calls() != 0 || len(c.sim.Orders()) != 0 || c.eventCount() != 0 {
		t.Errorf("calls %d, orders %d, events %d after local refusals", c.sim.Calls(), len(c.sim.Orders()), c.eventCount())
	}
}

// secondsToAmsterdamMidnight is the time from now to the next midnight in
// Europe/Amsterdam, computed independently of the plugin.
func secondsToAmsterdamMidnight(t *testing.T, now time.Time) float64 {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatalf("loading Europe/Amsterdam: %v", err)
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Sub(now).Seconds()
}

// checkUntilMidnight asserts that Retry-After (header and problem) is the
// time to the next Amsterdam midnight, ±1 s, for an answer received between
// before and after.
func checkUntilMidnight(t *testing.T, r response, p host.Problem, before, after time.Time) {
	t.Helper()
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("Retry-After %q: %v", r.header.Get("Retry-After"), err)
	}
	lo, hi := secondsToAmsterdamMidnight(t, after)-1, secondsToAmsterdamMidnight(t, before)+1
	if float64(ra) < lo || float64(ra) > hi {
		t.Errorf("Retry-After %d s, want %.0f–%.0f s (to the next midnight in Amsterdam)", ra, math.Ceil(lo), math.Floor(hi))
	}
	if p.RetryAfter != ra {
		t.Errorf("problem retry_after %d, header %d", p.RetryAfter, ra)
	}
}

// TestCBErrorTable sends every row of providers.md's CB error table through
// HTTP, the host, the real plugin and the simulator.
func TestCBErrorTable(t *testing.T) {
	c := startCB(t)
	// A loan to renew, and whose OrderReference to reuse.
	base := checkout(c.env, cbMain, cbBody(cbsim.EANAvailable, cbPatron, nil))
	renewal := cbLoans + "/" + base.ID + "/renewal"
	tests := []struct {
		name     string
		path     string
		body     map[string]any
		alter    func(map[string]any) // what the proxy changes in the request CB receives
		status   int
		code     string
		provCode string
	}{
		{"EBS-00001 failure", cbLoans, cbBody(cbsim.EANFailure, cbPatron, nil), nil, 502, "provider_error", "EBS-00001"},
		{"EBS-10003 not in the catalogue", cbLoans, cbBody(cbsim.EANNotFound, cbPatron, nil), nil, 404, "item_not_found", "EBS-10003"},
		{"EBS-10004 not deliverable", cbLoans, cbBody(cbsim.EANNotDeliverable, cbPatron, nil), nil, 409, "not_available", "EBS-10004"},
		{"EBS-10005 reused OrderReference", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil),
			func(m map[string]any) { m["OrderReference"] = base.ID }, 409, "duplicate_reference", "EBS-10005"},
		{"EBS-10006 not yet", cbLoans, cbBody(cbsim.EANNotYet, cbPatron, nil), nil, 409, "not_available", "EBS-10006"},
		{"EBS-10017 credit limit", cbLoans, cbBody(cbsim.EANCreditLimit, cbPatron, nil), nil, 409, "limit_reached", "EBS-10017"},
		{"EBS-10034 no cloud reading", cbLoans, cbBody(cbsim.EANNoCloudReading, cbPatron, map[string]string{"reading_method": "CR", "protection": "02"}), nil, 409, "not_available", "EBS-10034"},
		{"EBS-10043 pair CB refuses", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil),
			func(m map[string]any) { m["Protection"] = "00" }, 422, "unsupported_combination", "EBS-10043"},
		{"EBS-10045 no licence", cbLoans, cbBody(cbsim.EANNoLicence, cbPatron, nil), nil, 409, "not_available", "EBS-10045"},
		{"EBS-10046 shoulder/tail not 21 days", cbLoans, mergeBody(cbBody(cbsim.EANShoulderTail, cbPatron, nil), "days", 14), nil, 422, "unsupported_combination", "EBS-10046"},
		{"EBS-10053 referenced order unknown", renewal, map[string]any{"days": 7},
			func(m map[string]any) { m["CbOrderReference"] = "1" }, 404, "loan_not_found", "EBS-10053"},
		{"EBS-10054 referenced order of another user", renewal, map[string]any{"days": 7},
			func(m map[string]any) { m["UserId"] = pseudonymOf(cbMain, cbOtherPatron) }, 409, "patron_mismatch", "EBS-10054"},
		{"EBS-10063 EAN missing", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil),
			func(m map[string]any) { delete(m, "EAN") }, 400, "invalid_request", "EBS-10063"},
		{"EBS-10070 RentalUnit not DAG", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil),
			func(m map[string]any) { m["RentalUnit"] = "WEEK" }, 400, "invalid_request", "EBS-10070"},
		{"EBS-10074 OrderReference too long", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil),
			func(m map[string]any) { m["OrderReference"] = strings.Repeat("x", 101) }, 400, "invalid_request", "EBS-10074"},
		{"EBS-10075 UserId missing", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil),
			func(m map[string]any) { delete(m, "UserId") }, 400, "invalid_request", "EBS-10075"},
		{"EBS-99999 undocumented", cbLoans, cbBody(cbsim.EANUnknownCode, cbPatron, nil), nil, 502, "provider_error", "EBS-99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			calls, orders := c.upstreamOrders(), len(c.sim.Orders())
			c.tamper.arm(tt.alter)
			defer c.tamper.arm(nil)
			p := c.expectProblem(c.do("POST", tt.path, tt.body), tt.status, tt.code)
			if p.ProviderCode != tt.provCode || p.Provider != cbMain || p.Status != tt.status {
				t.Errorf("problem %+v, want provider_code %s from %s", p, tt.provCode, cbMain)
			}
			if got := c.upstreamOrders() - calls; got != 1 {
				t.Errorf("%d placeOrder calls reached CB, want 1", got)
			}
			if len(c.sim.Orders()) != orders {
				t.Errorf("CB kept an order")
			}
		})
	}
	c.t = t
	// 10063…10075 mean our own validation let a bad field through:
	// providers.md wants it logged at error level, and the plugin's line
	// reaches the host's log through the plugin's stderr.
	refused := logLines(t, c.logs.String(), "local validation should have refused")
	if len(refused) != 4 {
		t.Errorf("%d log lines about a field CB refused, want 4 (one per EBS-10063…10075 row)", len(refused))
	}
	for _, l := range refused {
		if l["@level"] != "error" {
			t.Errorf("the plugin's line about a refused field reaches the host's log at level %v, want error: %v", l["@level"], l["@message"])
			break
		}
	}
	// The shoulder/tail title is lent for exactly 21 days.
	checkout(c.env, cbMain, mergeBody(cbBody(cbsim.EANShoulderTail, cbPatron, nil), "days", 21))
	// The base loan is untouched by its refused renewals.
	got, _ := c.h.Loan(context.Background(), cbMain, base.ID)
	if !got.ExpiresAt.Equal(*base.ExpiresAt) || got.ProviderRef["last_order_reference"] != "" {
		t.Errorf("refused renewals changed the loan: %+v", got)
	}
	if n := c.eventCount(); n != 2 {
		t.Errorf("%d events, want 2 (the two loans); failed calls append none", n)
	}

	// EBS-10060 is about one title: the request answers try_later until the
	// next midnight in Amsterdam, and nothing else of the instance pauses.
	calls := c.upstreamOrders()
	before := time.Now()
	r := c.do("POST", cbLoans, cbBody(cbsim.EANNoPrice, cbPatron, nil))
	after := time.Now()
	p := c.expectProblem(r, 503, "try_later")
	if p.ProviderCode != "EBS-10060" || p.Provider != cbMain || !p.Retryable {
		t.Errorf("problem %+v", p)
	}
	checkUntilMidnight(t, r, p, before, after)
	if c.upstreamOrders() != calls+1 {
		t.Errorf("EBS-10060: %d calls reached CB, want 1", c.upstreamOrders()-calls)
	}
	checkout(c.env, cbMain, cbBody(cbsim.EANAvailable2, cbPatron, nil))
}

// TestCBPauseScope checks that a pause has the scope of its cause (api.md
// §7): EBS-10060 on one EAN leaves another EAN lending at once on the same
// instance, while CB's own HTTP 429 with Retry-After pauses the instance.
func TestCBPauseScope(t *testing.T) {
	c := startCB(t)
	r := c.do("POST", cbLoans, cbBody(cbsim.EANNoPrice, cbPatron, nil))
	c.expectProblem(r, 503, "try_later")
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("EBS-10060 without Retry-After")
	}
	calls := c.upstreamOrders()
	checkout(c.env, cbMain, cbBody(cbsim.EANAvailable, cbPatron, nil)) // 201, on the same instance
	if c.upstreamOrders() != calls+1 {
		t.Fatalf("the checkout after EBS-10060 did not reach CB")
	}

	// CB's 429 is about the whole instance: the next call, about another
	// title and with CB well again, answers try_later without calling CB.
	c.sim.SetFaults(cbsim.Faults{RetryAfter: time.Hour})
	r = c.do("POST", cbLoans, cbBody(cbsim.EANAvailable2, cbPatron, nil))
	c.expectProblem(r, 503, "try_later")
	c.sim.SetFaults(cbsim.Faults{})
	calls = c.upstreamOrders()
	r = c.do("POST", cbLoans, cbBody(cbsim.EANAvailable2, "another-patron", nil))
	p := c.expectProblem(r, 503, "try_later")
	if p.RetryAfter < 3000 || c.upstreamOrders() != calls {
		t.Fatalf("after CB's 429: retry_after %d s, %d calls reached CB; want the instance paused", p.RetryAfter, c.upstreamOrders()-calls)
	}
	// The pause is the instance's only: the other instance lends.
	checkout(c.env, cbAccess, cbBody(cbsim.EANAvailable2, cbReader, nil))
}

// TestCBAccessCheck runs access checks, and checks that no secret of the
// CB conversation reaches the logs.
func TestCBAccessCheck(t *testing.T) {
	c := startCB(t)
	access := func(provider string, body map[string]any) bool {
		t.Helper()
		r := c.do("POST", "/v1/providers/"+provider+"/access-checks", body)
		if r.status != 200 {
			t.Fatalf("access check %v: %d %s", body, r.status, r.body)
		}
		var a host.AccessCheck
		r.json(t, &a)
		return a.Access
	}
	check := func(item, patron, password string) map[string]any {
		return map[string]any{"item": item, "patron": patron, "password": password}
	}
	tests := []struct {
		name     string
		provider string
		body     map[string]any
		want     bool
	}{
		{"granted", cbAccess, check(cbReaderGranted, cbReader, cbReaderPassword), true},
		{"no grant", cbAccess, check(cbsim.EANNotYet, cbReader, cbReaderPassword), false},
		{"wrong password", cbAccess, check(cbReaderGranted, cbReader, "not-the-password"), false},
		{"unknown user (EBS-10038)", cbAccess, check(cbReaderGranted, cbUnknownReader, cbReaderPassword), false},
		{"granted title as ISBN-10", cbAccess, check("9900000005", cbReader, cbReaderPassword), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			calls := c.sim.CallsTo(cbsim.OpCheckAccess)
			if got := access(tt.provider, tt.body); got != tt.want {
				t.Errorf("access %v, want %v", got, tt.want)
			}
			if c.sim.CallsTo(cbsim.OpCheckAccess) != calls+1 {
				t.Errorf("the access check did not reach CB once")
			}
		})
	}
	c.t = t

	// On a pseudonymous instance CB knows the patron by the pseudonym: a
	// title the patron borrowed there is accessible, another is not.
	checkout(c.env, cbMain, cbBody(cbsim.EANAvailable, cbPatron, nil))
	if !access(cbMain, check(cbsim.EANAvailable, cbPatron, cbReaderPassword)) {
		t.Errorf("no access to a title the patron borrowed (pseudonym %s)", pseudonymOf(cbMain, cbPatron))
	}
	if access(cbMain, check(cbReaderGranted, cbPatron, cbReaderPassword)) {
		t.Errorf("access to a title the patron never borrowed")
	}
	// Refused before any call: no password, a wrong check digit.
	calls := c.sim.Calls()
	c.expectProblem(c.do("POST", "/v1/providers/"+cbAccess+"/access-checks", map[string]any{"item": cbReaderGranted, "patron": cbReader}), 400, "invalid_request")
	c.expectProblem(c.do("POST", "/v1/providers/"+cbAccess+"/access-checks", check(cbBadCheckDigit, cbReader, cbReaderPassword)), 400, "invalid_request")
	if c.sim.Calls() != calls {
		t.Errorf("a refused access check reached CB")
	}
	// CB failing: the password stays out of the problem too.
	c.sim.SetFaults(cbsim.Faults{Status: 500})
	r := c.do("POST", "/v1/providers/"+cbAccess+"/access-checks", check(cbReaderGranted, cbReader, cbReaderPassword))
	c.sim.SetFaults(cbsim.Faults{})
	c.expectProblem(r, 502, "provider_error")
	if bytes.Contains(r.body, []byte(cbReaderPassword)) {
		t.Errorf("the problem carries the password: %s", r.body)
	}

	c.h.Close(context.Background()) // flush the plugin's relayed stderr
	logs := c.logs.String()
	// The check is honest only if the capture holds the call lines: the
	// host's, and the plugin's own relayed from its stderr.
	for _, want := range []string{`"op":"access_check"`, `"op":"checkout"`, "/" + cbsim.OpCheckAccess + `"`, "/" + cbsim.OpPlaceOrder + `"`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the capture has no line with %s; logs:\n%s", want, logs)
		}
	}
	if len(logLines(t, logs, "request")) == 0 {
		t.Fatalf("the capture has none of the plugin's request lines; logs:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"CB account password": cbAccountPassword, "access-check password": cbReaderPassword,
		"wrong access-check password": "not-the-password", "API key": testAPIKey, "host secret": testSecret,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// logLines returns the captured JSON log lines whose message contains msg.
func logLines(t *testing.T, logs, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if s, _ := m["@message"].(string); strings.Contains(s, msg) {
			out = append(out, m)
		}
	}
	return out
}
