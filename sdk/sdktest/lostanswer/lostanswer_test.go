package lostanswer_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

func TestOversizeIsPastTheDefaultCap(t *testing.T) {
	if lostanswer.OversizeBytes != sdk.DefaultMaxBodyBytes+1 {
		t.Fatalf("OversizeBytes %d, want sdk.DefaultMaxBodyBytes+1 = %d", lostanswer.OversizeBytes, sdk.DefaultMaxBodyBytes+1)
	}
}

// TestEveryModeActsAndLosesTheAnswer: under each mode the simulator's
// handler runs (its effect is done) and sdk.Exchange reports an error of
// unknown outcome; without one the answer arrives whole.
func TestEveryModeActsAndLosesTheAnswer(t *testing.T) {
	var acted atomic.Int32
	var mode atomic.Int64
	sim := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"loan_id":"L1","download_url":"https://files.example/L1"}`))
	})
	srv := httptest.NewServer(lostanswer.Handler(sim, func(*http.Request) lostanswer.Mode { return lostanswer.Mode(mode.Load()) }))
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	x := &sdk.Exchange{Name: "Sim", Client: sdk.HTTPClient(map[string]string{sdk.SettingAllowInsecureHTTP: "true"}), Base: base}
	var out struct {
		LoanID string `json:"loan_id"`
	}
	if err := x.JSON(t.Context(), http.MethodPost, "/loans", map[string]string{}, &out); err != nil || out.LoanID != "L1" || acted.Load() != 1 {
		t.Fatalf("without a fault: %+v, %v (acted %d times)", out, err, acted.Load())
	}
	for _, m := range lostanswer.Modes {
		t.Run(m.String(), func(t *testing.T) {
			mode.Store(int64(m))
			before := acted.Load()
			err := x.JSON(t.Context(), http.MethodPost, "/loans", map[string]string{}, &out)
			if acted.Load() != before+1 {
				t.Errorf("the simulator acted %d times, want once", acted.Load()-before)
			}
			if err == nil || sdk.OutcomeOf(err) != sdk.OutcomeUnknown || sdk.CodeOf(err) != sdk.CodeProviderError {
				t.Errorf("got %v (outcome %s), want provider_error of unknown outcome", err, sdk.OutcomeOf(err))
			}
		})
	}
}
