package sdk

import (
	"net/http"
	"testing"
	"time"
)

func TestEveryCodeHasOneRow(t *testing.T) {
	for _, c := range Codes {
		if _, ok := codeTable[c]; !ok {
			t.Errorf("code %q has no row in the code table", c)
		}
	}
	if len(codeTable) != len(Codes) {
		t.Errorf("code table has %d rows, Codes lists %d", len(codeTable), len(Codes))
	}
	if got := Code("no_such_code").Status(); got != http.StatusBadGateway {
		t.Errorf("unknown code status = %d, want 502", got)
	}
	if !CodeProviderTimeout.CountsForBreaker() || CodeJournalUnavailable.CountsForBreaker() {
		t.Error("breaker column: provider_timeout must count, journal_unavailable must not")
	}
	if CodeOutcomeUnknown.Retryable() || CodeOutcomeUnknown.Status() != http.StatusConflict {
		t.Error("outcome_unknown is a 409 that invites no blind retry")
	}
}

func TestRetryAfterIsBoundedAndOverflowSafe(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"99999999999":                   MaxRetryAfter,
		"9223372037":                    MaxRetryAfter,
		"99999999999999999999":          MaxRetryAfter,
		"-5":                            0,
		"junk":                          0,
		"Mon, 30 Nov 2026 12:01:00 GMT": time.Minute,
		"Fri, 31 Dec 9999 23:59:59 GMT": MaxRetryAfter,
	}
	for v, want := range cases {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := RetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "99999999999", "9223372037", "Mon, 30 Nov 2026 12:01:00 GMT", "-1", " 7 "} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Retry-After": {v}}
		if d := RetryAfter(h, now); d < 0 || d > MaxRetryAfter {
			t.Fatalf("Retry-After %q = %v, outside [0, %v]", v, d, MaxRetryAfter)
		}
	})
}
