//go:build linux

package systemtest

// The adversarial suite drives a running examples/server, with the real
// plugin binaries and their simulators, over HTTP on loopback, as an ILS
// integrator and an attacker would, against api.md §7. One test per
// guarantee:
//
//	1  TestAdversarialRetryAfterUnknownOutcomeNeverOrdersTwice,
//	   TestAdversarialLostAnswerNeverOrdersTwice
//	2  TestAdversarialOutsidersGrowNothing
//	3  TestAdversarialPluginsArePinned
//	4  TestAdversarialOneInstanceFaultStaysItsOwn
//	5  TestAdversarialOneTitleWithoutPricePausesOnlyItself
//	6  TestAdversarialRetryAfterIsBounded
//	7  TestAdversarialDangerousLinksNeverReachTheILS
//	8  TestAdversarialLoanURLStaysAtTheDistributor
//	9  TestAdversarialSlowClientsAreCut
//	10 TestAdversarialPluginAnswersAreCapped
//	11 TestAdversarialFullJournalStopsOrdersNotTheTruth
//	12 TestAdversarialBearerSchemeIsCaseInsensitive,
//	   TestAdversarialShortSecretRefusedAtStart,
//	   TestAdversarialLeakedRedirectCannotDrainTheDistributor
//	+  TestAdversarialJunkAnswersProblems
//
// Run it alone with: go test -run Adversarial ./examples/server/

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

// Point 1: once a checkout may have reached the distributor (here: it
// committed, and its answer came after the instance's timeout), a retry
// with the same Idempotency-Key never orders a second time. De Marque
// deduplicates by transaction_id, so the retry may re-send under the same
// one; eHUB does not, so the retry answers outcome_unknown and sends
// nothing.
func TestAdversarialRetryAfterUnknownOutcomeNeverOrdersTwice(t *testing.T) {
	const timeout, hold = time.Second, 2500 * time.Millisecond
	dmSim, ehSim := newDMSim(), newEHSim()
	dmFront, ehFront := &front{next: dmSim}, &front{next: ehSim}
	dmURL, ehURL := serve(t, dmFront), serve(t, ehFront)

	addr := freeAddr(t)
	cfg := advConfig(t, addr, "demarque", "ehub")
	dm := advDMInstance(dmURL)
	dm.Timeout = host.Duration(timeout)
	eh := advEHInstance(ehURL)
	eh.Timeout = host.Duration(timeout)
	cfg.Providers["dm-slow"], cfg.Providers["eh-slow"] = dm, eh
	srv := startAdv(t, "server", cfg, nil)

	t.Run("De Marque: a retry re-sends under one transaction_id at most", func(t *testing.T) {
		body := mustJSON(host.CheckoutRequest{Item: demarquesim.ISBNAvailable, Patron: "once-dm", PatronName: "Jane Doe",
			Options: map[string]string{"loan_url": dmSim.LoanURL(dmURL, demarquesim.ISBNAvailable)}})
		const key = "retry-key-dm"
		dmFront.set(holdFirstAnswer(hold))
		first := srv.authed(http.MethodPost, "/v1/providers/dm-slow/loans", body, http.Header{"Idempotency-Key": {key}})
		wantProblem(t, "first checkout (answer held past the timeout)", first, http.StatusGatewayTimeout, "provider_timeout")

		retry := srv.authed(http.MethodPost, "/v1/providers/dm-slow/loans", body, http.Header{"Idempotency-Key": {key}})
		txs := map[string]bool{}
		for _, r := range dmSim.Requests() {
			if r.Endpoint == demarquesim.EndpointLending {
				txs[r.Form.Get("transaction_id")] = true
			}
		}
		if len(txs) != 1 {
			t.Errorf("the warehouse received %d transaction_ids for one Idempotency-Key, want 1: %v (retry answered %v)", len(txs), txs, retry)
		}
		if n := len(dmSim.Loans()); n != 1 {
			t.Errorf("the warehouse holds %d loans for one Idempotency-Key, want 1", n)
		}
		if retry.status != http.StatusOK && retry.status != http.StatusCreated {
			t.Fatalf("retry: %v, want the loan (200/201): De Marque deduplicates by transaction_id", retry)
		}
		var l host.Loan
		if err := json.Unmarshal(retry.body, &l); err != nil {
			t.Fatal(err)
		}
		if !txs[l.ID] {
			t.Errorf("retry answered loan %s, but the warehouse's transaction_id is %v", l.ID, txs)
		}
		var mine struct {
			Loans []host.Loan `json:"loans"`
		}
		srv.getJSON("/v1/providers/dm-slow/loans?patron=once-dm", &mine)
		if len(mine.Loans) != 1 || mine.Loans[0].ID != l.ID || mine.Loans[0].Status != host.StatusActive {
			t.Errorf("the journal holds %+v for the patron, want the one active loan %s", mine.Loans, l.ID)
		}
		again := srv.authed(http.MethodPost, "/v1/providers/dm-slow/loans", body, http.Header{"Idempotency-Key": {key}})
		if again.status != http.StatusOK || string(again.body) != string(retry.body) {
			t.Errorf("a third try: %v, want 200 with the retry's answer", again)
		}
	})

	t.Run("eHUB: a retry answers outcome_unknown and sends nothing", func(t *testing.T) {
		body := mustJSON(host.CheckoutRequest{Item: ehubsim.RecordEbook, Patron: "once-eh"})
		const key = "retry-key-eh"
		ehFront.set(holdFirstAnswer(hold))
		first := srv.authed(http.MethodPost, "/v1/providers/eh-slow/loans", body, http.Header{"Idempotency-Key": {key}})
		wantProblem(t, "first checkout (answer held past the timeout)", first, http.StatusGatewayTimeout, "provider_timeout")
		calls := ehSim.CallsFor(ehubsim.OpCheckout)
		if calls != 1 || len(ehSim.Checkouts()) != 1 {
			t.Fatalf("after the first attempt eHUB saw %d checkout calls and holds %d checkouts, want 1 and 1", calls, len(ehSim.Checkouts()))
		}

		retry := srv.authed(http.MethodPost, "/v1/providers/eh-slow/loans", body, http.Header{"Idempotency-Key": {key}})
		wantProblem(t, "retry with the same key", retry, http.StatusConflict, "outcome_unknown")
		loan := retry.problem().Loan
		if loan == "" {
			t.Errorf("retry's problem has no loan member: %s", retry.body)
		}
		if got := ehSim.CallsFor(ehubsim.OpCheckout); got != calls {
			t.Errorf("eHUB saw %d checkout calls after the retry, want %d (nothing sent again)", got, calls)
		}
		again := srv.authed(http.MethodPost, "/v1/providers/eh-slow/loans", body, http.Header{"Idempotency-Key": {key}})
		wantProblem(t, "a third try", again, http.StatusConflict, "outcome_unknown")
		if p := again.problem(); loan != "" && p.Loan != loan {
			t.Errorf("a third try names loan %q, the retry %q", p.Loan, loan)
		}
		if got := ehSim.CallsFor(ehubsim.OpCheckout); got != calls {
			t.Errorf("eHUB saw %d checkout calls after a third try, want %d", got, calls)
		}
		unknown := srv.loansByStatus("eh-slow", host.StatusUnknown)
		found := false
		for _, l := range unknown {
			found = found || (l.ID == loan && l.Patron == "once-eh")
		}
		if loan != "" && !found {
			t.Errorf("GET …/loans?status=unknown does not list loan %s: %+v", loan, unknown)
		}
	})
}
