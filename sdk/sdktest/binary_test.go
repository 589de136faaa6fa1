package sdktest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// mistakesPkg is the kit's plugin that commits one mistake on demand.
const mistakesPkg = "github.com/lendgate/lendgate/sdk/sdktest/internal/mistakes"

// tinySim simulates the distributor of the mistakes plugin, and records
// what reached it, for the effects hooks.
type tinySim struct {
	mu       sync.Mutex
	seq      int
	loans    map[string]bool // by id: made
	returned map[string]bool
}

func newTinySim() *tinySim { return &tinySim{loans: map[string]bool{}, returned: map[string]bool{}} }

func (s *tinySim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/loans":
		var in struct{ Item, Patron string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Item == "" || in.Patron == "" {
			answer(http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST"})
			return
		}
		switch in.Item {
		case "gone":
			answer(http.StatusConflict, map[string]string{"code": "NO_COPIES", "message": "every copy is lent"})
			return
		case "slow": // answers only when the plugin gives up
			<-r.Context().Done()
			return
		}
		s.mu.Lock()
		s.seq++
		id := fmt.Sprintf("T-%d", s.seq)
		s.loans[id] = true
		s.mu.Unlock()
		answer(http.StatusCreated, map[string]any{"id": id, "link": "https://tinylend.example/read/" + id,
			"expires": time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == http.MethodDelete && len(r.URL.Path) > len("/loans/"):
		id := r.URL.Path[len("/loans/"):]
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.loans[id] {
			answer(http.StatusNotFound, map[string]string{"code": "NO_LOAN"})
			return
		}
		s.returned[id] = true
		w.WriteHeader(http.StatusNoContent)
	default:
		answer(http.StatusNotFound, map[string]string{"code": "NOT_FOUND"})
	}
}

func (s *tinySim) made(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loans[id]
}

func (s *tinySim) wasReturned(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.returned[id]
}

// mistakesConfig runs the kit as the plugin author's guide does: the
// plugin as a binary, its simulator, error cases, a slow call and effects
// hooks; mistake names the mistake the plugin commits ("" for none).
func mistakesConfig(t *testing.T, mistake string) sdktest.Config {
	sim := newTinySim()
	srv := sdktest.Simulator(t, sim)
	checkout := sdk.CheckoutRequest{Item: "book-1", Patron: "reader-1", Format: "epub", Days: 14}
	return sdktest.Config{
		Binary:   testbin.Build(t, mistakesPkg, ""),
		Settings: map[string]string{"base_url": srv.URL, "mistake": mistake, sdk.SettingAllowInsecureHTTP: "true"},
		Checkout: checkout,
		ErrorCases: []sdktest.ErrorCase{
			{Name: "no copies", Call: checkoutOf(checkout, "gone"), Code: sdk.CodeNotAvailable, ProviderCode: "NO_COPIES"},
		},
		Slow: checkoutOf(checkout, "slow"),
		Effects: sdktest.Effects{
			Checkout: func(_ sdk.CheckoutRequest, l sdk.Loan) bool { return sim.made(l.ProviderRef["id"]) },
			Return:   func(l sdk.LoanRef) bool { return sim.wasReturned(l.ProviderRef["id"]) },
		},
	}
}
