package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// checkouts journals n checkouts (pending, then active with its event),
// one after the other, on a new store at a temporary path, and crashes
// it: it returns the path, each record's extent in the log, and the
// events' cursors.
func checkouts(t *testing.T, n int) (path string, extents [][2]int64, cursors []string) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	mark := func() int64 {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		return s.log.base(s.log.epoch) + s.log.off
	}
	for i := range n {
		id := fmt.Sprintf("ln_%d", i+1)
		start := mark()
		if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
			t.Fatal(err)
		}
		extents = append(extents, [2]int64{start, mark()})
		start = mark()
		placed := activeLoanOf(id, "p1", time.Now())
		placed.Version = 1 // the pending record's
		ev, _, err := s.Apply(ctx, placed, created(id), "created|"+id)
		if err != nil {
			t.Fatal(err)
		}
		extents = append(extents, [2]int64{start, mark()})
		cursors = append(cursors, ev.Cursor)
	}
	crash(t, s)
	return path, extents, cursors
}

// Recover keeps the records before the damage, moves the damaged log
// aside unchanged, says what it dropped, and the journal then opens: the
// loans before the damage are there, those after are not, and the numbers
// of the dropped events are never given again.
func TestRecoverKeepsWhatPrecedesTheDamage(t *testing.T) {
	ctx := context.Background()
	path, ext, cursors := checkouts(t, 3)
	lp := walPath(path)
	flipBit(t, lp, ext[2][0]+40) // the second checkout's pending record
	damaged, _ := os.ReadFile(lp)
	if _, err := Open(path); !errors.Is(err, journal.ErrDamaged) {
		t.Fatalf("Open = %v, want the damage", err)
	}
	rec, err := Recover(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Damage == nil || rec.Damage.Offset != ext[2][0] || rec.Kept != 2 || rec.Dropped != 3 || rec.Log != lp {
		t.Fatalf("Recover = %+v (%v)", rec, rec.Damage)
	}
	if moved, err := os.ReadFile(rec.MovedTo); err != nil || !bytes.Equal(moved, damaged) ||
		!strings.HasPrefix(rec.MovedTo, lp+".damaged-") {
		t.Fatalf("the damaged log at %q: %v (same bytes: %v)", rec.MovedTo, err, bytes.Equal(moved, damaged))
	}
	for _, want := range []string{fmt.Sprintf("damaged at offset %d (checksum mismatch", ext[2][0]),
		"kept 2 whole records before it", "dropped 3 whole records after it", "kept at " + rec.MovedTo} {
		if !strings.Contains(rec.String(), want) {
			t.Errorf("report %q lacks %q", rec, want)
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Loan(ctx, "a", "ln_1"); err != nil || r.Status != journal.StatusActive {
		t.Fatalf("ln_1 = %+v, %v; want active", r, err)
	}
	for _, id := range []string{"ln_2", "ln_3"} {
		if _, err := s.Loan(ctx, "a", id); !errors.Is(err, journal.ErrNotFound) {
			t.Fatalf("%s after the damage: %v", id, err)
		}
	}
	ev, _, err := s.Apply(ctx, activeLoanOf("ln_4", "p1", time.Now()), created("ln_4"), "")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Cursor <= cursors[2] || journal.FormatCursor(rec.NextEvent) != ev.Cursor {
		t.Fatalf("the next event is %s (recovery said %d); the dropped ones were up to %s", ev.Cursor, rec.NextEvent, cursors[2])
	}
	// Recovering a whole journal does nothing.
	s.Close()
	again, err := Recover(path)
	if err != nil || again.Damage != nil || again.MovedTo != "" || !strings.Contains(again.String(), "nothing to recover") {
		t.Fatalf("Recover of a whole journal = %+v, %v", again, err)
	}
}

// A file that was not closed cleanly needs its log: without it the
// journal is not opened (the log's last writes would be silently lost);
// Recover opens it, skipping every event number the log could have held.
// A file closed cleanly opens without its log.
func TestMissingLog(t *testing.T) {
	ctx := context.Background()
	path, _, cursors := checkouts(t, 2)
	lp := walPath(path)
	if err := os.Remove(lp); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	var d *DamageError
	if !errors.As(err, &d) || d.Offset != -1 || !strings.Contains(err.Error(), lp+": missing, and the journal was not closed cleanly") {
		t.Fatalf("Open without the log = %v", err)
	}
	if _, err := os.Stat(lp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused open created the log: %v", err)
	}
	rec, err := Recover(path)
	if err != nil || rec.Damage == nil || rec.MovedTo != "" {
		t.Fatalf("Recover = %+v, %v", rec, err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, _, err := s.Apply(ctx, activeLoanOf("ln_9", "p1", time.Now()), created("ln_9"), "")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := journal.ParseCursor(ev.Cursor); ev.Cursor <= cursors[1] || n < numbersIn(walSize) {
		t.Fatalf("the next event is %s; the log could have held up to %d numbers", ev.Cursor, numbersIn(walSize))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed cleanly: the file alone is the journal.
	if err := os.Remove(lp); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Loan(ctx, "a", "ln_9"); err != nil || r.Status != journal.StatusActive {
		t.Fatalf("ln_9 after a clean close without the log: %+v, %v", r, err)
	}
}

// A log cut short (a copy that stopped early) is damage too.
func TestShortLog(t *testing.T) {
	path, ext, _ := checkouts(t, 1)
	if err := os.Truncate(walPath(path), ext[1][1]); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	var d *DamageError
	if !errors.As(err, &d) || d.Offset != ext[1][1] || !strings.Contains(err.Error(), "the log ends here") {
		t.Fatalf("Open of a short log = %v", err)
	}
	rec, err := Recover(path)
	if err != nil || rec.Kept != 2 || rec.MovedTo == "" {
		t.Fatalf("Recover = %+v, %v", rec, err)
	}
}

// A copy of a file closed cleanly, put back beside the log of the same
// file's later run (a backup restored, its -wal left there), opens as the
// copy: that log is not read into it.
func TestRestoredCopyBesideANewerLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	if err := s.PutLoan(ctx, pendingLoanOf("ln_1", "p1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	if err := s.PutLoan(ctx, pendingLoanOf("ln_2", "p1")); err != nil {
		t.Fatal(err)
	}
	crash(t, s)
	if err := os.WriteFile(path, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	defer s.Close()
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
		t.Fatalf("PatronLoans = %+v, %v; want the copy's ln_1 alone", ls, err)
	}
}

// Event numbers after a crash and replay: whatever the point of the crash
// (just after an append, after a checkpoint, after a webhook saved its
// cursor, with the log lost and recovered), an event number once given
// is never given again, and no event after a webhook's cursor is skipped:
// the webhook reading after its cursor finds every event appended since.
func TestEventNumbersNeverRepeatAfterReplay(t *testing.T) {
	ctx := context.Background()
	const hook = "https://ils.example/hook"
	for _, point := range []string{"after an append", "after a checkpoint", "after a webhook saved its cursor", "log lost and recovered"} {
		t.Run(point, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			s := openT(t, path)
			if err := s.OpenWebhook(ctx, hook); err != nil {
				t.Fatal(err)
			}
			var given []string // every event number handed out, in order
			apply := func(s *Store, n int) {
				t.Helper()
				for range n {
					id := fmt.Sprintf("ln_%03d", len(given))
					ev, _, err := s.Apply(ctx, activeLoanOf(id, "p1", time.Now()), created(id), "")
					if err != nil {
						t.Fatal(err)
					}
					if len(given) > 0 && ev.Cursor <= given[len(given)-1] {
						t.Fatalf("event %s given after %s", ev.Cursor, given[len(given)-1])
					}
					given = append(given, ev.Cursor)
				}
			}
			deliver := func(s *Store) string { // the webhook delivers all there is
				t.Helper()
				now := time.Now()
				st, held, err := s.LeaseWebhook(ctx, hook, "node", now, now.Add(time.Minute))
				if err != nil || !held {
					t.Fatalf("LeaseWebhook = %v, %v", held, err)
				}
				evs, err := s.Events(ctx, st.Cursor, 1000)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) > 0 {
					st.Cursor = evs[len(evs)-1].Cursor
				}
				if err := s.SaveWebhook(ctx, st, "node", now.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				return st.Cursor
			}
			apply(s, 3)
			cursor := deliver(s)
			apply(s, 2)
			switch point {
			case "after a checkpoint":
				if err := s.flush(); err != nil {
					t.Fatal(err)
				}
				apply(s, 1)
			case "after a webhook saved its cursor", "log lost and recovered":
				cursor = deliver(s)
			}
			crash(t, s)
			if point == "log lost and recovered" {
				// The webhook delivered events bolt's file does not have.
				if err := os.Remove(walPath(path)); err != nil {
					t.Fatal(err)
				}
				if _, err := Recover(path); err != nil {
					t.Fatal(err)
				}
			}
			s = openT(t, path)
			defer s.Close()
			from := len(given)
			apply(s, 3)
			evs, err := s.Events(ctx, cursor, 1000)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, e := range evs {
				got[e.Cursor] = true
			}
			for _, c := range given[from:] {
				if !got[c] {
					t.Fatalf("event %s, appended after the restart, is not after the webhook's cursor %s: it would never be pushed", c, cursor)
				}
			}
		})
	}
}

// A webhook's cursor past bolt's last event (its file restored without
// the log that held the events it delivered) moves the numbering past
// it at open: the next event is after the cursor, and pushed.
func TestOpenNumbersEventsPastWebhookCursors(t *testing.T) {
	ctx := context.Background()
	const hook = "https://ils.example/hook"
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	if err := s.OpenWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	st, _, err := s.LeaseWebhook(ctx, hook, "node", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	st.Cursor = journal.FormatCursor(1000)
	if err := s.SaveWebhook(ctx, st, "node", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	defer s.Close()
	ev, _, err := s.Apply(ctx, activeLoanOf("ln_1", "p1", now), created("ln_1"), "")
	if err != nil || ev.Cursor != journal.FormatCursor(1001) {
		t.Fatalf("the first event after the open is %s, %v; want 1001, after the webhook's cursor", ev.Cursor, err)
	}
}
