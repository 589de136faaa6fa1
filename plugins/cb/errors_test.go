package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/sdk"
)

// TestErrorTable places an order for every trigger EAN of the simulator and
// checks the unified code providers.md's table gives it.
func TestErrorTable(t *testing.T) {
	tests := []struct {
		ean          string
		options      map[string]string
		days         int
		code         sdk.Code
		providerCode string
		retryAfter   time.Duration
	}{
		{ean: cbsim.EANFailure, code: sdk.CodeProviderError, providerCode: "EBS-00001"},
		{ean: cbsim.EANNotFound, code: sdk.CodeItemNotFound, providerCode: "EBS-10003"},
		{ean: "9789000000005", code: sdk.CodeItemNotFound, providerCode: "EBS-10003"},
		{ean: cbsim.EANNotDeliverable, code: sdk.CodeNotAvailable, providerCode: "EBS-10004"},
		{ean: cbsim.EANNotYet, code: sdk.CodeNotAvailable, providerCode: "EBS-10006"},
		{ean: cbsim.EANCreditLimit, code: sdk.CodeLimitReached, providerCode: "EBS-10017"},
		{ean: cbsim.EANNoCloudReading, options: map[string]string{"reading_method": "CR"}, code: sdk.CodeNotAvailable, providerCode: "EBS-10034"},
		{ean: cbsim.EANNoLicence, code: sdk.CodeNotAvailable, providerCode: "EBS-10045"},
		{ean: cbsim.EANShoulderTail, days: 14, code: sdk.CodeUnsupportedCombination, providerCode: "EBS-10046"},
		// testNow is 12:00 in Amsterdam on a 23-hour day.
		{ean: cbsim.EANNoPrice, code: sdk.CodeTryLater, providerCode: "EBS-10060", retryAfter: 12 * time.Hour},
		{ean: cbsim.EANUnknownCode, code: sdk.CodeProviderError, providerCode: "EBS-99999"},
	}
	f := setup(t)
	for i, tt := range tests {
		t.Run(tt.providerCode+"/"+tt.ean, func(t *testing.T) {
			r := checkout(tt.ean, fmt.Sprintf("loan-%d", i), "p1")
			r.Options, r.Days = tt.options, tt.days
			_, err := f.p.Checkout(f.ctx, r)
			e := wantCode(t, err, tt.code, tt.providerCode)
			if e.RetryAfter != tt.retryAfter || e.Message == "" {
				t.Fatalf("retry after %v, message %q", e.RetryAfter, e.Message)
			}
		})
	}
	// Those triggers deliver otherwise.
	if _, err := f.p.Checkout(f.ctx, checkout(cbsim.EANNoCloudReading, "ok-1", "p1")); err != nil {
		t.Fatalf("10034 trigger with D: %v", err)
	}
	if _, err := f.p.Checkout(f.ctx, checkout(cbsim.EANShoulderTail, "ok-2", "p1")); err != nil {
		t.Fatalf("10046 trigger with 21 days: %v", err)
	}
	// A reused loan id.
	_, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "ok-1", "p1"))
	wantCode(t, err, sdk.CodeDuplicateReference, "EBS-10005")
}

func ebsBody(code, text string) string {
	b, _ := json.Marshal(map[string]map[string]string{"Message": {"MessageType": "E", "MessageCode": code, "MessageText": text}})
	return string(b)
}

// TestAnswerMapping covers the answers the simulator does not produce for a
// well-behaved connector: CB refusing what local validation should have
// caught, and EBS messages with unusual statuses.
func TestAnswerMapping(t *testing.T) {
	tests := []struct {
		status       int
		body         string
		code         sdk.Code
		providerCode string
	}{
		{200, ebsBody("EBS-10043", "The combination of ReadingMethods and Protection is not allowed"), sdk.CodeUnsupportedCombination, "EBS-10043"},
		{200, ebsBody("EBS-10053", ""), sdk.CodeLoanNotFound, "EBS-10053"},
		{409, ebsBody("EBS-10054", "x"), sdk.CodePatronMismatch, "EBS-10054"},
		{401, ebsBody("EBS-10017", "x"), sdk.CodeLimitReached, "EBS-10017"},
		{503, ebsBody("EBS-12345", "x"), sdk.CodeProviderError, "EBS-12345"},
		{503, `{"error":"down"}`, sdk.CodeProviderError, "HTTP 503"},
		{502, `<html>bad gateway</html>`, sdk.CodeProviderError, "HTTP 502"},
		{404, ``, sdk.CodeProviderError, "HTTP 404"},
		{401, `Unauthorized`, sdk.CodeProviderCredentials, "HTTP 401"},
		{403, `{}`, sdk.CodeProviderCredentials, "HTTP 403"},
		{429, `{}`, sdk.CodeTryLater, "HTTP 429"},
		{200, "\x00garbage", sdk.CodeProviderError, "HTTP 200"},
		{200, `{}`, sdk.CodeProviderError, "HTTP 200"},
		{200, `{"placeOrder":{"EAN":"9789084999813","URL":"https://x.example/d"}}`, sdk.CodeProviderError, "HTTP 200"},
	}
	for i := 63; i <= 75; i++ {
		tests = append(tests, struct {
			status       int
			body         string
			code         sdk.Code
			providerCode string
		}{400, ebsBody(fmt.Sprintf("EBS-100%d", i), "field"), sdk.CodeInvalidRequest, fmt.Sprintf("EBS-100%d", i)})
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.providerCode), func(t *testing.T) {
			p, logs := newTestProvider()
			_, err := cannedOrder(p, tt.status, nil, []byte(tt.body))
			wantCode(t, err, tt.code, tt.providerCode)
			logged := strings.Contains(logs.String(), "[ERROR]")
			if want := tt.code == sdk.CodeInvalidRequest; logged != want {
				t.Fatalf("logged at error level: %v, want %v:\n%s", logged, want, logs)
			}
		})
	}
	p, _ := newTestProvider()
	h := http.Header{"Retry-After": {"30"}}
	_, err := cannedOrder(p, 429, h, []byte("slow down"))
	if e := wantCode(t, err, sdk.CodeTryLater, "HTTP 429"); e.RetryAfter != 30*time.Second {
		t.Fatalf("retry after %v", e.RetryAfter)
	}
}

func TestHTTPFaults(t *testing.T) {
	f := setup(t)
	tests := []struct {
		name         string
		faults       cbsim.Faults
		code         sdk.Code
		providerCode string
		retryAfter   time.Duration
	}{
		{"5xx", cbsim.Faults{Status: 503}, sdk.CodeProviderError, "HTTP 503", 0},
		{"garbage", cbsim.Faults{Garbage: true}, sdk.CodeProviderError, "HTTP 200", 0},
		{"429", cbsim.Faults{RetryAfter: 30 * time.Second}, sdk.CodeTryLater, "HTTP 429", 30 * time.Second},
		{"dropped", cbsim.Faults{Drop: true}, sdk.CodeProviderError, "", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.sim.SetFaults(tt.faults)
			defer f.sim.SetFaults(cbsim.Faults{})
			_, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, fmt.Sprintf("loan-%d", i), "p1"))
			if e := wantCode(t, err, tt.code, tt.providerCode); e.RetryAfter != tt.retryAfter {
				t.Fatalf("retry after %v", e.RetryAfter)
			}
		})
	}
	if n := f.sim.CallsTo(cbsim.OpPlaceOrder); n != len(tests) {
		t.Fatalf("%d calls for %d requests: a retry?", n, len(tests))
	}
}

func TestWrongCredentials(t *testing.T) {
	f := setup(t, cbsim.WithCredentials(testUsername, "another"))
	_, err := f.p.Checkout(f.ctx, checkout(cbsim.EANAvailable, "loan-1", "p1"))
	e := wantCode(t, err, sdk.CodeProviderCredentials, "HTTP 401")
	if strings.Contains(e.Error(), testPassword) || strings.Contains(f.logs.String(), testPassword) {
		t.Fatal("the instance password leaked")
	}
}

func TestDeadline(t *testing.T) {
	f := setup(t)
	f.sim.SetFaults(cbsim.Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(f.ctx, 50*time.Millisecond)
	defer cancel()
	_, err := f.p.Checkout(ctx, checkout(cbsim.EANAvailable, "loan-1", "p1"))
	wantCode(t, err, sdk.CodeProviderTimeout, "")
}

func TestNextMidnight(t *testing.T) {
	p, _ := newTestProvider()
	tests := []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"summer noon", time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), 12 * time.Hour},
		{"winter evening", time.Date(2026, 1, 15, 21, 30, 0, 0, time.UTC), 90 * time.Minute},
		{"one second before midnight", time.Date(2026, 1, 1, 22, 59, 59, 0, time.UTC), time.Second},
		{"at midnight: the next one", time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"UTC date already tomorrow", time.Date(2026, 6, 15, 23, 0, 0, 0, time.UTC), 23 * time.Hour},
		// 2026-03-29: 02:00 CET becomes 03:00 CEST, a 23-hour day.
		{"spring forward, 00:30 CET", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), 22*time.Hour + 30*time.Minute},
		{"spring forward, 12:00 CEST", time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC), 12 * time.Hour},
		// 2026-10-25: 03:00 CEST becomes 02:00 CET, a 25-hour day.
		{"fall back, 00:30 CEST", time.Date(2026, 10, 24, 22, 30, 0, 0, time.UTC), 24*time.Hour + 30*time.Minute},
		{"fall back, 12:00 CET", time.Date(2026, 10, 25, 11, 0, 0, 0, time.UTC), 12 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextMidnight(tt.now, p.amsterdam).Sub(tt.now); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			p.now = func() time.Time { return tt.now }
			// Retry-After is bounded to 24 h (api.md §7), even on a 25-hour day.
			_, err := cannedOrder(p, 200, nil, []byte(ebsBody("EBS-10060", "")))
			if e := sdk.AsError(err); e.RetryAfter != min(tt.want, sdk.MaxRetryAfter) || e.Code != sdk.CodeTryLater {
				t.Fatalf("EBS-10060: %v retry after %v", e, e.RetryAfter)
			}
		})
	}
}

// TestPauseScope checks that EBS-10060 (no price for one title yet) is an
// answer about the request, while CB's own 429 asks the whole instance to
// wait (api.md §7: a pause has the scope of its cause).
func TestPauseScope(t *testing.T) {
	f := setup(t)
	_, err := f.p.Checkout(f.ctx, checkout(cbsim.EANNoPrice, "scope-1", "p1"))
	if e := wantCode(t, err, sdk.CodeTryLater, "EBS-10060"); e.Scope != sdk.ScopeRequest || e.RetryAfter <= 0 {
		t.Fatalf("EBS-10060: scope %v, retry after %v; want the request's scope with a Retry-After", e.Scope, e.RetryAfter)
	}
	h := http.Header{}
	h.Set("Retry-After", "30")
	_, err = cannedOrder(f.p, 429, h, []byte("slow down"))
	if e := wantCode(t, err, sdk.CodeTryLater, "HTTP 429"); e.Scope != sdk.ScopeInstance {
		t.Fatalf("HTTP 429: scope %v, want the instance's", e.Scope)
	}
}
