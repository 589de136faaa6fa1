package cbsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testhttp"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk/isbn"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

type result struct {
	status int
	header http.Header
	raw    string
	body   map[string]map[string]string
}

func (r result) code() string { return r.body["Message"]["MessageCode"] }

func call(t *testing.T, srv *httptest.Server, op string, body any) result {
	t.Helper()
	return callAs(t, srv, op, body, cbsim.DefaultUsername, cbsim.DefaultPassword)
}

func callAs(t *testing.T, srv *httptest.Server, op string, body any, user, pass string) result {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(http.MethodPost, cbsim.BaseURL(srv.URL)+"/"+op, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	return r
}

func order(ean, ref, user string) map[string]string {
	return map[string]string{
		"EAN": ean, "ReadingMethod": "D", "Protection": "02", "RentalUnit": "DAG",
		"RentalNumberOfUnits": "21", "OrderReference": ref, "UserId": user,
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

func newServer(t *testing.T, opts ...cbsim.Option) (*cbsim.Sim, *httptest.Server) {
	t.Helper()
	sim := cbsim.New(opts...)
	return sim, testhttp.Serve(t, sim)
}

func TestTriggerEANsHaveValidCheckDigits(t *testing.T) {
	for _, ean := range []string{
		cbsim.EANAvailable, cbsim.EANAvailable2, cbsim.EANNotFound, cbsim.EANFailure,
		cbsim.EANNotDeliverable, cbsim.EANNotYet, cbsim.EANCreditLimit, cbsim.EANNoCloudReading,
		cbsim.EANNoLicence, cbsim.EANShoulderTail, cbsim.EANNoPrice, cbsim.EANUnknownCode,
	} {
		if !isbn.Valid(ean) {
			t.Errorf("%s: invalid check digit", ean)
		}
	}
}

func TestPlaceOrder(t *testing.T) {
	sim, srv := newServer(t, cbsim.WithClock(func() time.Time { return time.Unix(1e9, 0) }))
	r := call(t, srv, "placeOrder", order(cbsim.EANAvailable, "123abc", "XYZ"))
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	got := r.body["placeOrder"]
	if got["CbOrderReference"] != "1669231" || got["EAN"] != cbsim.EANAvailable ||
		!strings.HasPrefix(got["URL"], cbsim.DefaultDeliveryBaseURL+"/wmDwld.php?") {
		t.Fatalf("answer %v", got)
	}
	o, ok := sim.Order("123abc")
	if !ok || o.CbOrderReference != "1669231" || o.UserID != "XYZ" || o.Units != 21 ||
		o.URL != got["URL"] || o.AdditionTo != "" || !o.PlacedAt.Equal(time.Unix(1e9, 0)) {
		t.Fatalf("stored order %+v %v", o, ok)
	}
	if byCb, _ := sim.OrderByCb("1669231"); byCb != o {
		t.Fatalf("by cb %+v", byCb)
	}
	if sim.Calls() != 1 || sim.CallsTo(cbsim.OpPlaceOrder) != 1 || sim.CallsTo(cbsim.OpCheckAccess) != 0 {
		t.Fatalf("calls %d", sim.Calls())
	}
	// Numbers are accepted as well as strings.
	r = call(t, srv, "placeOrder", `{"EAN":"9789084999813","ReadingMethod":"CR","Protection":"02","RentalUnit":"DAG","RentalNumberOfUnits":7,"OrderReference":"n","UserId":"XYZ"}`)
	if r.status != 200 {
		t.Fatalf("numeric units: %d %s", r.status, r.raw)
	}
	if len(sim.Orders()) != 2 {
		t.Fatalf("orders %v", sim.Orders())
	}
	sim.Reset()
	if _, ok := sim.Order("123abc"); ok || sim.Calls() != 0 || len(sim.Orders()) != 0 {
		t.Fatal("Reset kept state")
	}
}

func TestPlaceOrderRefusals(t *testing.T) {
	base := order(cbsim.EANAvailable, "ref", "XYZ")
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"not json", "EAN=1", 400, "EBS-00001"},
		{"EAN missing", with(base, "EAN", "<delete>"), 400, "EBS-10063"},
		{"EAN short", with(base, "EAN", "978908499981"), 400, "EBS-10064"},
		{"EAN letters", with(base, "EAN", "97890849998AB"), 400, "EBS-10064"},
		{"ReadingMethod missing", with(base, "ReadingMethod", ""), 400, "EBS-10065"},
		{"ReadingMethod bad", with(base, "ReadingMethod", "X"), 400, "EBS-10066"},
		{"Protection missing", with(base, "Protection", "<delete>"), 400, "EBS-10067"},
		{"Protection bad", with(base, "Protection", "01"), 400, "EBS-10068"},
		{"RentalUnit missing", with(base, "RentalUnit", "<delete>"), 400, "EBS-10069"},
		{"RentalUnit bad", with(base, "RentalUnit", "WEEK"), 400, "EBS-10070"},
		{"units missing", with(base, "RentalNumberOfUnits", "<delete>"), 400, "EBS-10071"},
		{"units 22", with(base, "RentalNumberOfUnits", "22"), 400, "EBS-10072"},
		{"units 0", with(base, "RentalNumberOfUnits", "0"), 400, "EBS-10072"},
		{"OrderReference missing", with(base, "OrderReference", "<delete>"), 400, "EBS-10073"},
		{"OrderReference long", with(base, "OrderReference", strings.Repeat("r", 101)), 400, "EBS-10074"},
		{"UserId missing", with(base, "UserId", "<delete>"), 400, "EBS-10075"},
		{"D+00", with(base, "Protection", "00"), 200, "EBS-10043"},
		{"CR+03", with(base, "ReadingMethod", "CR", "Protection", "03"), 200, "EBS-10043"},
		{"unknown EAN", with(base, "EAN", "9789000000005"), 200, "EBS-10003"},
		{"not found", with(base, "EAN", cbsim.EANNotFound), 200, "EBS-10003"},
		{"failure", with(base, "EAN", cbsim.EANFailure), 500, "EBS-00001"},
		{"not deliverable", with(base, "EAN", cbsim.EANNotDeliverable), 200, "EBS-10004"},
		{"not yet", with(base, "EAN", cbsim.EANNotYet), 200, "EBS-10006"},
		{"credit", with(base, "EAN", cbsim.EANCreditLimit), 200, "EBS-10017"},
		{"cloud reading", with(base, "EAN", cbsim.EANNoCloudReading, "ReadingMethod", "CR"), 200, "EBS-10034"},
		{"licence", with(base, "EAN", cbsim.EANNoLicence), 200, "EBS-10045"},
		{"shoulder/tail", with(base, "EAN", cbsim.EANShoulderTail, "RentalNumberOfUnits", "14"), 200, "EBS-10046"},
		{"no price", with(base, "EAN", cbsim.EANNoPrice), 200, "EBS-10060"},
		{"unknown code", with(base, "EAN", cbsim.EANUnknownCode), 200, "EBS-99999"},
		{"addition to nothing", with(base, "CbOrderReference", "42"), 200, "EBS-10053"},
	}
	sim, srv := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, srv, "placeOrder", tt.body)
			if r.status != tt.status || r.code() != tt.code || r.body["Message"]["MessageType"] != "E" || r.body["Message"]["MessageText"] == "" {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
		})
	}
	if n := len(sim.Orders()); n != 0 {
		t.Fatalf("%d orders placed by refused requests", n)
	}
	// The conditional triggers deliver otherwise.
	for _, body := range []map[string]string{
		with(base, "EAN", cbsim.EANNoCloudReading, "OrderReference", "d"),
		with(base, "EAN", cbsim.EANShoulderTail, "OrderReference", "21"),
	} {
		if r := call(t, srv, "placeOrder", body); r.status != 200 || r.body["placeOrder"]["URL"] == "" {
			t.Fatalf("%v: %d %s", body, r.status, r.raw)
		}
	}
}

func TestAdditions(t *testing.T) {
	sim, srv := newServer(t)
	first := call(t, srv, "placeOrder", order(cbsim.EANAvailable, "loan-1", "u1")).body["placeOrder"]
	if r := call(t, srv, "placeOrder", order(cbsim.EANAvailable, "loan-1", "u1")); r.code() != "EBS-10005" {
		t.Fatalf("reused reference: %s", r.raw)
	}
	if r := call(t, srv, "placeOrder", with(order(cbsim.EANAvailable, "ren-1", "u2"), "CbOrderReference", first["CbOrderReference"])); r.code() != "EBS-10054" {
		t.Fatalf("other user: %s", r.raw)
	}
	r := call(t, srv, "placeOrder", with(order(cbsim.EANAvailable, "ren-1", "u1"), "CbOrderReference", first["CbOrderReference"], "RentalNumberOfUnits", "7"))
	if r.status != 200 {
		t.Fatalf("addition: %s", r.raw)
	}
	add, _ := sim.Order("ren-1")
	if add.AdditionTo != first["CbOrderReference"] || add.CbOrderReference == first["CbOrderReference"] ||
		add.URL != first["URL"] || add.Units != 7 || r.body["placeOrder"]["URL"] != first["URL"] {
		t.Fatalf("addition %+v, answer %v", add, r.body)
	}
}

func TestCheckAccess(t *testing.T) {
	sim, srv := newServer(t, cbsim.WithUser("u1", "pw1"), cbsim.WithGrant("u1", cbsim.EANAvailable2))
	access := func(ean, user, pw string) string {
		t.Helper()
		r := call(t, srv, "checkAccess", map[string]string{"EAN": ean, "UserId": user, "UserPassword": pw})
		if c := r.code(); c != "" {
			return c
		}
		return r.body["Access"]["Accessable"]
	}
	if got := access(cbsim.EANAvailable, "u1", "pw1"); got != "N" {
		t.Fatalf("before order: %s", got)
	}
	call(t, srv, "placeOrder", order(cbsim.EANAvailable, "loan-1", "u1"))
	for _, tt := range []struct{ ean, user, pw, want string }{
		{cbsim.EANAvailable, "u1", "pw1", "Y"},
		{cbsim.EANAvailable2, "u1", "pw1", "Y"}, // grant
		{cbsim.EANAvailable, "u1", "wrong", "N"},
		{cbsim.EANAvailable, "u1", "", "N"},
		{cbsim.EANNoPrice, "u1", "pw1", "N"},
		{cbsim.EANAvailable, "nobody", "pw1", "EBS-10038"},
		{"", "u1", "pw1", "EBS-10063"},
		{cbsim.EANAvailable, "", "pw1", "EBS-10075"},
	} {
		if got := access(tt.ean, tt.user, tt.pw); got != tt.want {
			t.Errorf("%s %s %q: got %s, want %s", tt.ean, tt.user, tt.pw, got, tt.want)
		}
	}
	if sim.CallsTo(cbsim.OpCheckAccess) != 9 {
		t.Fatalf("checkAccess calls %d", sim.CallsTo(cbsim.OpCheckAccess))
	}
}

func TestAuthAndRouting(t *testing.T) {
	sim, srv := newServer(t, cbsim.WithCredentials("lib", "pw"))
	body := order(cbsim.EANAvailable, "r", "u")
	if r := callAs(t, srv, "placeOrder", body, "", ""); r.status != 401 || r.header.Get("WWW-Authenticate") == "" || r.code() != "" {
		t.Fatalf("no credentials: %d %s", r.status, r.raw)
	}
	if r := callAs(t, srv, "placeOrder", body, "lib", "nope"); r.status != 401 {
		t.Fatalf("wrong password: %d", r.status)
	}
	if r := callAs(t, srv, "cancelOrder", body, "lib", "pw"); r.status != 404 {
		t.Fatalf("unknown op: %d", r.status)
	}
	if r := callAs(t, srv, "placeOrder", body, "lib", "pw"); r.status != 200 {
		t.Fatalf("right credentials: %d %s", r.status, r.raw)
	}
	resp, err := srv.Client().Get(cbsim.BaseURL(srv.URL) + "/placeOrder")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 { // credentials are checked first
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if sim.Calls() != 5 || sim.CallsTo("cancelOrder") != 1 {
		t.Fatalf("calls %d", sim.Calls())
	}
}

func TestFaults(t *testing.T) {
	sim, srv := newServer(t)
	body := order(cbsim.EANAvailable, "r", "u")

	sim.SetFaults(cbsim.Faults{RetryAfter: 1500 * time.Millisecond})
	if r := call(t, srv, "placeOrder", body); r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Fatalf("retry after: %d %v", r.status, r.header)
	}
	sim.SetFaults(cbsim.Faults{Status: 503})
	if r := call(t, srv, "placeOrder", body); r.status != 503 || r.code() != "" || !json.Valid([]byte(r.raw)) {
		t.Fatalf("status: %d %s", r.status, r.raw)
	}
	sim.SetFaults(cbsim.Faults{Garbage: true})
	if r := call(t, srv, "placeOrder", body); r.status != 200 || json.Valid([]byte(r.raw)) {
		t.Fatalf("garbage: %d %q", r.status, r.raw)
	}
	sim.SetFaults(cbsim.Faults{Drop: true})
	req, _ := http.NewRequest(http.MethodPost, cbsim.BaseURL(srv.URL)+"/placeOrder", strings.NewReader("{}"))
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("drop: answered %d", resp.StatusCode)
	}
	sim.SetFaults(cbsim.Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, cbsim.BaseURL(srv.URL)+"/placeOrder", strings.NewReader("{}"))
	if _, err := srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency: %v", err)
	}
	sim.SetFaults(cbsim.Faults{})
	if r := call(t, srv, "placeOrder", body); r.status != 200 {
		t.Fatalf("cleared: %d %s", r.status, r.raw)
	}
	if sim.Calls() != 6 || len(sim.Orders()) != 1 {
		t.Fatalf("calls %d, orders %d", sim.Calls(), len(sim.Orders()))
	}
}

// A renewal (an addition) re-sent under the OrderReference of one already
// placed answers EBS-10005 and adds nothing: a connector re-sends a renewal
// whose answer it lost under the same reference, and CB keeps one.
func TestReSentAdditionIsRefusedEBS10005(t *testing.T) {
	sim := cbsim.New()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	first := call(t, srv, cbsim.OpPlaceOrder, order(cbsim.EANAvailable, "loan-1", "u1"))
	cb := first.body["placeOrder"]["CbOrderReference"]
	if first.status != http.StatusOK || cb == "" {
		t.Fatalf("first order: %d %s", first.status, first.raw)
	}
	addition := with(order(cbsim.EANAvailable, "renewal-1", "u1"), "CbOrderReference", cb, "RentalNumberOfUnits", "7")
	if r := call(t, srv, cbsim.OpPlaceOrder, addition); r.status != http.StatusOK || r.body["placeOrder"]["CbOrderReference"] == "" {
		t.Fatalf("addition: %d %s", r.status, r.raw)
	}
	again := call(t, srv, cbsim.OpPlaceOrder, addition)
	if again.code() != "EBS-10005" {
		t.Errorf("re-sent addition: %d %s, want EBS-10005", again.status, again.raw)
	}
	if n := len(sim.Orders()); n != 2 {
		t.Errorf("CB holds %d orders, want 2 (the order and one addition)", n)
	}
}

// LoseAnswer places the order and then loses its answer, whichever way.
func TestLoseAnswerPlacesTheOrder(t *testing.T) {
	sim := cbsim.New()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	for i, m := range lostanswer.Modes {
		t.Run(m.String(), func(t *testing.T) {
			sim.SetFaults(cbsim.Faults{LoseAnswer: m})
			defer sim.SetFaults(cbsim.Faults{})
			ref := fmt.Sprintf("lost-%d", i)
			b, _ := json.Marshal(order(cbsim.EANAvailable, ref, "u1"))
			req, _ := http.NewRequest(http.MethodPost, cbsim.BaseURL(srv.URL)+"/"+cbsim.OpPlaceOrder, bytes.NewReader(b))
			req.SetBasicAuth(cbsim.DefaultUsername, cbsim.DefaultPassword)
			resp, err := srv.Client().Do(req)
			var body []byte
			if err == nil {
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			switch m {
			case lostanswer.Cut:
				if err == nil {
					t.Errorf("an answer came: %d", resp.StatusCode)
				}
			case lostanswer.Gateway:
				if err != nil || resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "Bad Gateway") {
					t.Errorf("want a gateway's 502 page, got %v %v", resp, err)
				}
			case lostanswer.Unreadable:
				if err != nil || resp.StatusCode != http.StatusOK || json.Valid(body) {
					t.Errorf("want 200 with an unreadable body, got %v %q", err, body)
				}
			case lostanswer.Oversize:
				if err != nil || resp.StatusCode != http.StatusOK || len(body) != lostanswer.OversizeBytes || !json.Valid(body) {
					t.Errorf("want 200 with %d bytes of JSON, got %v, %d bytes", lostanswer.OversizeBytes, err, len(body))
				}
			}
			if _, ok := sim.Order(ref); !ok {
				t.Errorf("the order %s was not placed", ref)
			}
		})
	}
}
