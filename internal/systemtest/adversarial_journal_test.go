//go:build linux

package systemtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// mountTmpfs mounts a tmpfs of size bytes at a new directory and unmounts
// it when t ends; it skips t when that cannot be done here.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small tmpfs to fill needs root")
	}
	dir := filepath.Join(t.TempDir(), "journal-fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs here (%v)", err)
	}
	// Registered before the server starts, so it runs after the server
	// has stopped.
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file in dir until the filesystem is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for i := 0; i < 1<<20; i++ {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return p
			}
			t.Fatalf("filling the tmpfs: %v", err)
		}
	}
	t.Fatal("the tmpfs never filled up")
	return ""
}

// Point 11: with the bolt journal on a full filesystem, a checkout answers
// 503 journal_unavailable (the host's fault: not provider_error, not
// counted by the breaker) without ordering at the distributor, /readyz is
// 503, no notification token is logged; once space is back, lending
// resumes and no loan is left pending (one that may have been ordered is
// unknown or active, never missing).
func TestAdversarialFullJournalStopsOrdersNotTheTruth(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 8<<20)
	cb := newCBSim()
	dmSim := newDMSim()
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb", "demarque")
	cfg.Store = host.StoreConfig{Driver: "bolt", DSN: filepath.Join(dir, "lendgate.db")}
	in := advCBInstance(serve(t, cb))
	in.Timeout = host.Duration(time.Second)
	in.Rate.MaxWait = host.Duration(100 * time.Millisecond)
	cfg.Providers["cb"] = in
	dmURL := serve(t, dmSim)
	cfg.Providers["dm"] = advDMInstance(dmURL)
	s := startAdv(t, "server", cfg, nil)

	if a := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, "before-full"), "key-before-full"); a.status != http.StatusCreated {
		t.Fatalf("checkout before the disk fills: %v", a)
	}
	// A De Marque loan whose return notification arrives while the disk
	// is full: its token must not reach the log.
	dl := s.dmCheckout(t, dmSim, dmURL, "notified", "Jane Doe")
	token := ""
	if l, ok := dmSim.Loan(dl.ID); ok {
		token = l.NotifyURL[strings.LastIndexByte(l.NotifyURL, '/')+1:]
	}

	filler := fill(t, dir)
	type attempt struct {
		patron string
		a      answer
	}
	var failed []attempt
	lent := 0
	for i := 0; i < 60 && len(failed) < 4; i++ {
		patron := fmt.Sprintf("full-%d", i)
		a := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, patron), "key-"+patron)
		if a.status == http.StatusCreated {
			lent++
			continue
		}
		failed = append(failed, attempt{patron, a})
		if len(failed) == 1 {
			// While the journal cannot write, the host is not ready.
			if !waitUntil(3*time.Second, func() bool {
				r := s.open(http.MethodGet, "/readyz", nil, nil)
				return r.err == nil && r.status == http.StatusServiceUnavailable
			}) {
				t.Errorf("/readyz is not 503 while the journal cannot write")
			}
		}
	}
	if len(failed) == 0 {
		t.Skipf("skipped: %d checkouts on a full tmpfs all succeeded; bolt found room in its own pages", lent)
	}
	t.Logf("on the full disk: %d checkouts lent, %d refused", lent, len(failed))
	notOrdered := 0
	for _, f := range failed {
		wantProblem(t, "checkout on a full disk ("+f.patron+")", f.a, http.StatusServiceUnavailable, "journal_unavailable")
		if f.a.status == http.StatusServiceUnavailable && f.a.header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", f.patron)
		}
		if !hasOrder(cb, advPseudonym("cb", f.patron)) {
			notOrdered++
		}
	}
	if notOrdered == 0 {
		t.Errorf("every refused checkout had placed its order at CB: the host called the distributor although it could not journal the pending loan")
	}
	if p := s.provider("cb"); p.Breaker.Failures != 0 || p.Breaker.State != "closed" {
		t.Errorf("the breaker counted the journal's failures: %+v", p.Breaker)
	}
	if token != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := dmSim.Return(ctx, dl.ID)
		cancel()
		t.Logf("return notification on the full disk: %v", err)
		mac := token[strings.IndexByte(token, '.')+1:]
		if strings.Contains(s.output(), mac) {
			t.Errorf("the log holds the notification token")
		}
	}

	// Space comes back.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Lending resumes (a host may learn that the journal writes again
	// from a write, so the checkout comes first), then readiness.
	var after answer
	if !waitUntil(15*time.Second, func() bool {
		after = s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, "after-full"), "key-after-full")
		return after.status == http.StatusCreated || after.status == http.StatusOK
	}) {
		t.Errorf("checkout once space is back: %v", after)
	}
	if !waitUntil(5*time.Second, func() bool {
		r := s.open(http.MethodGet, "/readyz", nil, nil)
		return r.err == nil && r.status == http.StatusOK
	}) {
		t.Errorf("/readyz is not 200 once space is back and the journal writes")
	}
	if !waitUntil(15*time.Second, func() bool { return len(s.loansByStatus("cb", "pending")) == 0 }) {
		t.Errorf("loans still pending 15 s after space came back: %+v", s.loansByStatus("cb", "pending"))
	}
	// Every order CB holds has its loan in the journal, active or unknown.
	for _, o := range cb.Orders() {
		r := s.do(http.MethodGet, "/v1/providers/cb/loans/"+o.OrderReference, nil, "")
		var l host.Loan
		if r.status != http.StatusOK || mustDecode(r.body, &l) != nil {
			t.Errorf("CB holds order %s, the journal answers %v", o.OrderReference, r)
			continue
		}
		if l.Status != host.StatusActive && l.Status != host.StatusUnknown {
			t.Errorf("CB holds order %s, the journal has it %s", o.OrderReference, l.Status)
		}
	}
	// A retry of each refused request now lends once.
	for _, f := range failed {
		a := s.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, f.patron), "key-"+f.patron)
		if a.status != http.StatusCreated && a.status != http.StatusOK && a.code() != "outcome_unknown" {
			t.Errorf("retry of %s once space is back: %v", f.patron, a)
		}
		if n := countOrders(cb, advPseudonym("cb", f.patron)); n > 1 {
			t.Errorf("%s: %d orders at CB for one Idempotency-Key", f.patron, n)
		}
	}
}

func hasOrder(s *cbsim.Sim, user string) bool { return countOrders(s, user) > 0 }

func countOrders(s *cbsim.Sim, user string) int {
	n := 0
	for _, o := range s.Orders() {
		if o.UserID == user {
			n++
		}
	}
	return n
}

func mustDecode(b []byte, v any) error { return jsonUnmarshal(b, v) }
