package sdktest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/sdk"
	"github.com/lendgate/lendgate/sdk/sdktest"
)

// mistakesPkg is the kit's plugin that commits one mistake on demand.
const mistakesPkg = "github.com/lendgate/lendgate/sdk/sdktest/internal/mistakes"

// tinyKey is the API key of the mistakes plugin's distributor: long enough
// for the kit to look for it.
const tinyKey = "tiny-key-7f3a9c2e"

// patronAtLimit is the patron whom Tinylend refuses with PATRON_LIMIT.
const patronAtLimit = "reader-at-limit"

// tinySim simulates the distributor of the mistakes plugin, and records
// what reached it, for the effects hooks. It places a loan for every
// request, a repeated reference included: it does not deduplicate.
type tinySim struct {
	mu       sync.Mutex
	seq      int
	loans    map[string]bool // by id: made
	refs     map[string]int  // loans placed under a reference
	returned map[string]bool
}

func newTinySim() *tinySim {
	return &tinySim{loans: map[string]bool{}, refs: map[string]int{}, returned: map[string]bool{}}
}

func (s *tinySim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("X-Api-Key") != tinyKey {
		answer(http.StatusUnauthorized, map[string]string{"code": "BAD_KEY"})
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/loans/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/loans":
		var in struct {
			Item, Patron, Ref string
			Days              int
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Item == "" || in.Patron == "" || in.Ref == "" {
			answer(http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST"})
			return
		}
		switch {
		case in.Item == "gone":
			answer(http.StatusConflict, map[string]string{"code": "NO_COPIES", "message": "every copy is lent"})
			return
		case in.Patron == patronAtLimit:
			answer(http.StatusConflict, map[string]string{"code": "PATRON_LIMIT", "message": "the patron has too many loans"})
			return
		case in.Item == "slow": // answers only when the plugin gives up
			<-r.Context().Done()
			return
		}
		if in.Days == 0 {
			in.Days = 14
		}
		s.mu.Lock()
		s.seq++
		id := fmt.Sprintf("T-%d", s.seq)
		s.loans[id] = true
		s.refs[in.Ref]++
		s.mu.Unlock()
		answer(http.StatusCreated, map[string]any{"id": id, "link": "https://tinylend.example/read/" + id,
			"expires": time.Now().Add(time.Duration(in.Days) * 24 * time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == http.MethodGet && id != r.URL.Path:
		s.mu.Lock()
		ok := s.loans[id] && !s.returned[id]
		s.mu.Unlock()
		if !ok {
			answer(http.StatusNotFound, map[string]string{"code": "NO_LOAN"})
			return
		}
		answer(http.StatusOK, map[string]any{"link": "https://tinylend.example/read/" + id + "?fresh",
			"expires": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == http.MethodDelete && id != r.URL.Path:
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.loans[id] || s.returned[id] {
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

func (s *tinySim) placed(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refs[ref]
}

// mistakesConfig runs the kit as the plugin author's guide does: the
// plugin as a binary (bin), its simulator served by sdktest.Simulator and
// given as the fault hook, error cases and effects hooks; mistake names
// the mistake the plugin commits ("" for none).
func mistakesConfig(t *testing.T, bin, mistake string) sdktest.Config {
	sim := newTinySim()
	srv := sdktest.Simulator(t, sim)
	checkout := sdk.CheckoutRequest{Item: "book-1", Patron: "reader-1", Format: "epub", Days: 14}
	limited := checkout
	limited.Patron = patronAtLimit
	return sdktest.Config{
		Binary:   bin,
		Settings: map[string]string{"base_url": srv.URL, "api_key": tinyKey, "mistake": mistake, sdk.SettingAllowInsecureHTTP: "true"},
		Checkout: checkout,
		ErrorCases: []sdktest.ErrorCase{
			{Name: "no copies", Call: checkoutOf(checkout, "gone"), Code: sdk.CodeNotAvailable, ProviderCode: "NO_COPIES"},
			{Name: "patron limit", Call: checkoutOf(limited, "book-1"), Code: sdk.CodeLimitReached, ProviderCode: "PATRON_LIMIT"},
		},
		Slow:   checkoutOf(checkout, "slow"),
		Faults: srv,
		Effects: sdktest.Effects{
			Checkout:  func(_ sdk.CheckoutRequest, l sdk.Loan) bool { return sim.made(l.ProviderRef["id"]) },
			Return:    func(l sdk.LoanRef) bool { return sim.wasReturned(l.ProviderRef["id"]) },
			Checkouts: sim.placed,
		},
	}
}

// mistakesBinary builds the mistakes plugin with ldflags.
func mistakesBinary(t *testing.T, ldflags string) string {
	return testbin.Build(t, mistakesPkg, ldflags)
}

// raceBinary builds pkg with the race detector, whatever this test binary
// runs with: the kit's races check needs a plugin that reports its races.
func raceBinary(t *testing.T, pkg string) string {
	out := filepath.Join(t.TempDir(), "plugin-race")
	cmd := exec.CommandContext(t.Context(), testbin.GoTool(), "build", "-race", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -race %s: %v\n%s", pkg, err, b)
	}
	return out
}
