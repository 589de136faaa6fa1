//go:build linux

package systemtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

// api.md §7, the journal never reads damage as absence: checkouts on bolt,
// kill -9, one bit flipped in the first record of lendgate.db-wal. The
// server refuses to start (exit status 1, never listening), naming the file
// and the offset, and changes nothing; the original bytes put back, it
// starts with every loan. Then the operator's step: the damaged state
// started with -recover-journal opens, says what it dropped, and keeps the
// damaged log.
func TestKill9DamagedJournalLog(t *testing.T) {
	t.Parallel()
	s := startSim(t, nil)
	store := boltStore(t)
	cfg := baseConfig(t, store)
	cfg.Providers["cb"] = cbInstance(s)
	config := writeConfig(t, cfg)
	lp := store.DSN + "-wal"

	// Three checkouts, then kill -9 at once: the log commits into the
	// file within a second, so the kill must land before. Should a commit
	// have taken every record meanwhile, the server is started again and
	// one more checkout is made.
	var loans []host.Loan
	var img, dbAtKill []byte
	first := -1
	srv := startServer(t, "server", config)
	for attempt := 0; first < 0; attempt++ {
		if attempt == 5 {
			t.Fatal("at every kill the log had committed every record into the file")
		}
		for range max(1, 3-len(loans)) {
			patron := fmt.Sprintf("patron-%d", len(loans))
			a := srv.do(http.MethodPost, "/v1/providers/cb/loans", checkoutBody(cbsim.EANAvailable, patron), "key-"+patron)
			var l host.Loan
			if a.err != nil || a.status != http.StatusCreated || json.Unmarshal(a.body, &l) != nil {
				t.Fatalf("checkout: %v", a)
			}
			loans = append(loans, l)
		}
		srv.kill9()
		var err error
		if img, err = os.ReadFile(lp); err != nil {
			t.Fatal(err)
		}
		if dbAtKill, err = os.ReadFile(store.DSN); err != nil {
			t.Fatal(err)
		}
		first = bytes.IndexFunc(img, func(r rune) bool { return r != 0 })
		if first < 0 {
			srv = startServer(t, fmt.Sprintf("server-%d", attempt+1), config)
		}
	}
	if got := len(s.Orders()); got != len(loans) {
		t.Fatalf("CB holds %d orders for %d checkouts", got, len(loans))
	}

	damaged := bytes.Clone(img)
	damaged[first+30] ^= 0x01 // inside the first record, past its header
	if err := os.WriteFile(lp, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := spawn(t, "server-damaged", config, freeAddr(t), secretEnv+"="+testSecret)
	select {
	case <-bad.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server still runs 20s after starting on a damaged journal:\n%s", bad.logTail(20))
	}
	out, _ := os.ReadFile(bad.logPath)
	want := fmt.Sprintf("%s: damaged record at offset %d (", lp, first)
	if code := bad.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), want) ||
		!strings.Contains(string(out), `the journal was not opened; see docs/operations.md "Recovering a damaged journal"`) ||
		!strings.Contains(string(out), "-recover-journal") {
		t.Fatalf("the server on a damaged journal exited %d with:\n%s\nwant exit 1 naming %q", code, out, want)
	}
	t.Logf("the server on the damaged journal said: %s", strings.TrimSpace(string(out)))
	if a := bad.do(http.MethodGet, "/readyz", nil, ""); a.err == nil {
		t.Fatalf("/readyz answered %d on a server that refused its journal", a.status)
	}
	if now, _ := os.ReadFile(lp); !bytes.Equal(now, damaged) {
		t.Fatal("the refused start changed the damaged log")
	}

	// The original bytes back: every loan is there, as answered.
	if err := os.WriteFile(lp, img, 0o600); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, "server-restored", config)
	for _, want := range loans {
		var got host.Loan
		srv.getJSON("/v1/providers/cb/loans/"+want.ID, &got)
		if got.Status != host.StatusActive || got.ProviderRef["cb_order_reference"] != want.ProviderRef["cb_order_reference"] {
			t.Errorf("loan %s after the log was restored: %+v, want active as answered", want.ID, got)
		}
	}
	srv.stop()

	// The operator's recovery, on the damaged state as the kill left it.
	if err := os.WriteFile(store.DSN, dbAtKill, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lp, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	rec := spawnArgs(t, "server-recovered", config, freeAddr(t), []string{"-recover-journal"}, secretEnv+"="+testSecret)
	rec.waitReady()
	out, _ = os.ReadFile(rec.logPath)
	if !strings.Contains(string(out), fmt.Sprintf("%s: damaged at offset %d (", lp, first)) || !strings.Contains(string(out), "dropped ") {
		t.Fatalf("-recover-journal said:\n%s", out)
	}
	t.Logf("-recover-journal said: %s", strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0])
	kept, _ := filepath.Glob(lp + ".damaged-*")
	if len(kept) != 1 {
		t.Fatalf("damaged logs kept: %v", kept)
	}
	if b, _ := os.ReadFile(kept[0]); !bytes.Equal(b, damaged) {
		t.Fatal("the damaged log was not kept as it was")
	}
}
