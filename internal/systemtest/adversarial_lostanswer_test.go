//go:build linux

package systemtest

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/internal/testbin"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
	"github.com/lendgate/lendgate/sdk/sdktest/lostanswer"
)

// Point 1, when the answer is lost rather than late (api.md §7, "decided
// by what was sent"): the distributor acted and the connection was cut, a
// gateway answered 502 with its HTML page, or the 2xx could not be read or
// was over the size cap. The first call answers naming the loan (kept as
// unknown for a checkout, as it was for a renewal or a return); the retry
// with the same Idempotency-Key never orders twice: CB re-sends under the
// same OrderReference and its EBS-10005 means the first order or addition
// stands; eHUB and Acme's returns, which cannot tell a repeat, answer
// outcome_unknown and send nothing; the loan is never 404.
func TestAdversarialLostAnswerNeverOrdersTwice(t *testing.T) {
	cb, eh := newCBSim(), newEHSim()
	acmeURL, acmeDeletes, loseAcme := startAcme(t)
	addr := freeAddr(t)
	cfg := advConfig(t, addr, "cb", "ehub")
	acme := testbin.BuildIn(t, testbin.ThirdPartyDir(t), testbin.Acme)
	cfg.Plugins["acme"] = host.PluginConfig{Path: acme, SHA256: testbin.SHA256(t, acme)}
	cfg.Providers["cb"] = advCBInstance(serve(t, cb))
	cfg.Providers["eh"] = advEHInstance(serve(t, eh))
	cfg.Providers["acme"] = instance("acme", "epub", map[string]string{"base_url": acmeURL, "api_key": "acme-test-key"})
	srv := startAdv(t, "server", cfg, nil)

	// loanIs fails t unless GET of the loan answers it (never 404) with
	// status.
	loanIs := func(t *testing.T, provider, id, status string) host.Loan {
		t.Helper()
		a := srv.do(http.MethodGet, "/v1/providers/"+provider+"/loans/"+id, nil, "")
		var l host.Loan
		if a.status != http.StatusOK {
			t.Fatalf("GET loan %s after the lost answer: %v, want the loan", id, a)
		}
		mustUnmarshal(t, a.body, &l)
		if l.Status != status {
			t.Errorf("loan %s is %s, want %s", id, l.Status, status)
		}
		return l
	}
	countEventsOf := func(loan, typ string) int { return countEvents(srv.events(), loan, typ) }

	for _, m := range lostanswer.Modes {
		t.Run("CB checkout "+m.String(), func(t *testing.T) {
			key, patron := "lost-cb-"+m.String(), "p-lost-"+m.String()
			orders := len(cb.Orders())
			cb.SetFaults(cbsim.Faults{LoseAnswer: m})
			first := srv.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, patron), key)
			cb.SetFaults(cbsim.Faults{})
			wantProblem(t, "checkout whose answer was lost", first, http.StatusBadGateway, "provider_error")
			loan := first.problem().Loan
			if loan == "" {
				t.Fatalf("the lost answer names no loan: %s", first.body)
			}
			if len(cb.Orders()) != orders+1 {
				t.Fatalf("CB holds %d new orders, want the one placed", len(cb.Orders())-orders)
			}
			loanIs(t, "cb", loan, host.StatusUnknown)

			retry := srv.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, patron), key)
			if retry.status != http.StatusCreated {
				t.Fatalf("retry: %v, want 201 (CB's EBS-10005: the first order stands)", retry)
			}
			var l host.Loan
			mustUnmarshal(t, retry.body, &l)
			if l.ID != loan || l.Status != host.StatusActive {
				t.Errorf("retry answered %s (%s), want %s active", l.ID, l.Status, loan)
			}
			if n := len(cb.Orders()); n != orders+1 {
				t.Errorf("CB holds %d new orders for one Idempotency-Key, want 1", n-orders)
			}
			if n := countEventsOf(loan, "loan.created"); n != 1 {
				t.Errorf("%d loan.created events, want 1", n)
			}
		})
	}

	for _, m := range lostanswer.Modes {
		t.Run("CB renewal "+m.String(), func(t *testing.T) {
			a := srv.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, "p-renew-"+m.String()), "")
			if a.status != http.StatusCreated {
				t.Fatalf("checkout: %v", a)
			}
			var l host.Loan
			mustUnmarshal(t, a.body, &l)
			key, path := "lost-renew-"+m.String(), "/v1/providers/cb/loans/"+l.ID+"/renewal"
			orders := len(cb.Orders())
			cb.SetFaults(cbsim.Faults{LoseAnswer: m})
			first := srv.do(http.MethodPost, path, []byte(`{"days": 7}`), key)
			cb.SetFaults(cbsim.Faults{})
			wantProblem(t, "renewal whose answer was lost", first, http.StatusBadGateway, "provider_error")
			if p := first.problem(); p.Loan != l.ID {
				t.Errorf("the lost renewal names loan %q, want %s", p.Loan, l.ID)
			}
			if cur := loanIs(t, "cb", l.ID, host.StatusActive); !cur.ExpiresAt.Equal(*l.ExpiresAt) {
				t.Errorf("the lost renewal moved the expiry to %v", cur.ExpiresAt)
			}
			retry := srv.do(http.MethodPost, path, []byte(`{"days": 7}`), key)
			if retry.status != http.StatusOK {
				t.Fatalf("retry: %v, want 200 (CB's EBS-10005: the first addition stands)", retry)
			}
			var r host.Loan
			mustUnmarshal(t, retry.body, &r)
			if r.ExpiresAt == nil || r.ExpiresAt.Sub(*l.ExpiresAt) != 7*24*time.Hour {
				t.Errorf("renewed expiry %v, want 7 days after %v", r.ExpiresAt, l.ExpiresAt)
			}
			if n := len(cb.Orders()); n != orders+1 {
				t.Errorf("CB holds %d additions for one Idempotency-Key, want 1", n-orders)
			}
			if n := countEventsOf(l.ID, "loan.renewed"); n != 1 {
				t.Errorf("%d loan.renewed events, want 1", n)
			}
		})
	}

	for _, m := range lostanswer.Modes {
		t.Run("eHUB checkout "+m.String(), func(t *testing.T) {
			key := "lost-eh-" + m.String()
			body := mustJSON(host.CheckoutRequest{Item: ehubsim.RecordEbook, Patron: "p-eh-" + m.String()})
			calls := eh.CallsFor(ehubsim.OpCheckout)
			eh.SetFaults(ehubsim.Faults{LoseAnswer: m})
			first := srv.do(http.MethodPost, "/v1/providers/eh/loans", body, key)
			eh.SetFaults(ehubsim.Faults{})
			wantProblem(t, "checkout whose answer was lost", first, http.StatusBadGateway, "provider_error")
			loan := first.problem().Loan
			if loan == "" {
				t.Fatalf("the lost answer names no loan: %s", first.body)
			}
			loanIs(t, "eh", loan, host.StatusUnknown)
			retry := srv.do(http.MethodPost, "/v1/providers/eh/loans", body, key)
			wantProblem(t, "retry", retry, http.StatusConflict, "outcome_unknown")
			if p := retry.problem(); p.Loan != loan {
				t.Errorf("outcome_unknown names %q, want %s", p.Loan, loan)
			}
			if n := eh.CallsFor(ehubsim.OpCheckout); n != calls+1 {
				t.Errorf("eHUB saw %d checkouts for one Idempotency-Key, want 1", n-calls)
			}
		})
	}

	for _, m := range lostanswer.Modes {
		t.Run("Acme return "+m.String(), func(t *testing.T) {
			a := srv.do(http.MethodPost, "/v1/providers/acme/loans", mustJSON(host.CheckoutRequest{Item: "9781861972712", Patron: "p-acme-" + m.String()}), "")
			if a.status != http.StatusCreated {
				t.Fatalf("checkout: %v", a)
			}
			var l host.Loan
			mustUnmarshal(t, a.body, &l)
			key, path := "lost-return-"+m.String(), "/v1/providers/acme/loans/"+l.ID
			deletes := acmeDeletes.get("DELETE")
			loseAcme(m)
			first := srv.do(http.MethodDelete, path, nil, key)
			loseAcme(lostanswer.None)
			if m == lostanswer.Unreadable {
				// Acme's return answers 204 and the plugin reads no body:
				// a 200 with garbage is still "returned", not a lost answer.
				if first.status != http.StatusOK {
					t.Errorf("return answered 2xx with a body the plugin ignores: %v, want 200", first)
				}
				return
			}
			wantProblem(t, "return whose answer was lost", first, http.StatusBadGateway, "provider_error")
			if p := first.problem(); p.Loan != l.ID {
				t.Errorf("the lost return names loan %q, want %s", p.Loan, l.ID)
			}
			loanIs(t, "acme", l.ID, host.StatusActive)
			retry := srv.do(http.MethodDelete, path, nil, key)
			wantProblem(t, "retry of the return", retry, http.StatusConflict, "outcome_unknown")
			if p := retry.problem(); p.Loan != l.ID {
				t.Errorf("outcome_unknown names %q, want %s", p.Loan, l.ID)
			}
			if n := acmeDeletes.get("DELETE"); n != deletes+1 {
				t.Errorf("Acme saw %d returns for one Idempotency-Key, want 1", n-deletes)
			}
		})
	}
	srv.alive(t)
}

// startAcme runs the example third-party distributor's simulator
// (examples/thirdparty's cmd/acmesim) as a process, behind a proxy that
// counts its returns and, while lose says so, lets a return through and
// then loses its answer. It returns the proxy's URL.
func startAcme(t *testing.T) (base string, deletes *counter, lose func(lostanswer.Mode)) {
	t.Helper()
	bin := testbin.BuildIn(t, testbin.ThirdPartyDir(t), testbin.AcmeSim)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting acmesim: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("acmesim printed %q (%v), want its URL", line, err)
	}
	target, err := url.Parse(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	deletes = &counter{}
	f := &front{next: httputil.NewSingleHostReverseProxy(target)}
	lose = func(m lostanswer.Mode) {
		f.set(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if r.Method == http.MethodDelete {
				deletes.add("DELETE")
				if m != lostanswer.None {
					lostanswer.Serve(w, r, next, m)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	lose(lostanswer.None)
	return serve(t, f), deletes, lose
}
