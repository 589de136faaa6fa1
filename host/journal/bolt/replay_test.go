package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// putRec is a whole record of pass putting loan id (with a note of pad
// bytes), as the log holds it.
func putRec(pass uint64, id string, pad int) []byte {
	r := pendingLoanOf(id, "p1")
	if pad > 0 {
		r.Options = map[string]string{"note": strings.Repeat("x", pad)}
	}
	b := mustJSON(r)
	rec := walRecord{op: opPut, key: string(loanKey("a", id)), loan: b}.appendTo(nil)
	sealRecord(rec, pass)
	return rec
}

// halves is a log image of two halves of half bytes, with the records of
// each written from its start.
func halves(half int, first, second [][]byte) []byte {
	img := make([]byte, 2*half)
	for i, recs := range [][][]byte{first, second} {
		off := i * half
		for _, r := range recs {
			off += copy(img[off:], r)
		}
	}
	return img
}

// keptIDs are the loans a scan replays, in order.
func keptIDs(sc logScan) string {
	var ids []string
	for _, x := range sc.keep {
		ids = append(ids, x.ix.ID)
	}
	return strings.Join(ids, ",")
}

// What replay reads of the two passes after bolt's, on images of what a
// crash leaves (and of what it cannot leave): the last record cut short
// ends the log; anything else wrong stops it, at the offset of the first
// record not whole.
func TestReplayTornTailOrDamage(t *testing.T) {
	const half = 4096
	const E = 40 // bolt's last pass: 41 is in half 1, 42 in half 0
	r := func(pass uint64, id string) []byte { return putRec(pass, id, 0) }
	big := func(pass uint64, id string) []byte { return putRec(pass, id, 1500) } // over three sectors
	cut := func(b []byte, n int) []byte {                                        // the first n bytes written, the rest still zeros
		out := make([]byte, len(b))
		copy(out, b[:n])
		return out
	}
	flip := func(b []byte, i int) []byte {
		out := append([]byte{}, b...)
		out[i] ^= 0x04
		return out
	}
	a1, a2, a3 := r(41, "ln_1"), r(41, "ln_2"), r(41, "ln_3")
	b1, b2 := r(42, "ln_4"), r(42, "ln_5")
	for _, tc := range []struct {
		name          string
		img           []byte
		kept          string
		damageAt      int64 // -1: none
		reason, after string
	}{
		{"both passes whole", halves(half, [][]byte{b1, b2}, [][]byte{a1, a2}), "ln_1,ln_2,ln_4,ln_5", -1, "", ""},
		{"the last record cut in its payload", halves(half, nil, [][]byte{a1, a2, cut(a3, 40)}), "ln_1,ln_2", -1, "", ""},
		{"the last record cut in its header", halves(half, nil, [][]byte{a1, a2, cut(a3, 9)}), "ln_1,ln_2", -1, "", ""},
		{"a cut record in the second pass", halves(half, [][]byte{b1, cut(b2, 30)}, [][]byte{a1}), "ln_1,ln_4", -1, "", ""},
		{"a bit flipped in the first record", halves(half, nil, [][]byte{flip(a1, 60), a2, a3}), "", half, "checksum mismatch", "2 whole records after it"},
		{"a bit flipped in the last record", halves(half, nil, [][]byte{a1, a2, flip(a3, len(a3)-2)}), "ln_1,ln_2",
			half + int64(len(a1)+len(a2)), "checksum mismatch", ""},
		{"a bit flipped in the last record's length", halves(half, nil, [][]byte{a1, flip(a2, 11)}), "ln_1",
			half + int64(len(a1)), "no record header", ""},
		{"a stray byte after the last record", halves(half, nil, [][]byte{a1, make([]byte, 100), {1}}), "ln_1",
			half + int64(len(a1)), "no record header", ""},
		{"a sector missing from the last record", halves(half, nil, [][]byte{a1, hole(big(41, "ln_9"), half+len(a1))}), "ln_1", -1, "", ""},
		{"a sector missing from a record with one after it",
			halves(half, nil, [][]byte{a1, hole(big(41, "ln_9"), half+len(a1)), a2}), "ln_1",
			half + int64(len(a1)), "a sector of it is missing; 1 whole record after it", ""},
		{"the first pass cut while the second holds data", halves(half, [][]byte{b1}, [][]byte{a1, cut(a2, 30)}), "ln_1",
			half + int64(len(a1)), "its last record is cut short, yet pass 42", "1 whole record after it"},
		{"the second pass's half still holds pass 40 (its zeroing cut short)",
			halves(half, [][]byte{r(40, "ln_0"), make([]byte, 700), {7, 7, 7}}, [][]byte{a1}), "ln_1", -1, "", ""},
		{"a record of a later pass: not this file's log", halves(half, [][]byte{r(44, "ln_7")}, [][]byte{a1}), "ln_1",
			0, "a record of pass 44 where pass 42's belong", ""},
		{"a record of the other pass inside a pass", halves(half, nil, [][]byte{a1, r(43, "ln_7")}), "ln_1",
			half + int64(len(a1)), "a record of pass 43", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := scanLog("j.db-wal", tc.img, half, E)
			if tc.damageAt < 0 {
				if sc.damage != nil {
					t.Fatalf("damage %v; want a log that opens", sc.damage)
				}
				if got := keptIDs(sc); got != tc.kept {
					t.Fatalf("replayed %q, want %q", got, tc.kept)
				}
				return
			}
			d := sc.damage
			if d == nil {
				t.Fatalf("no damage found (replayed %q); want damage at %d", keptIDs(sc), tc.damageAt)
			}
			msg := d.Error()
			if d.Offset != tc.damageAt || !strings.Contains(msg, tc.reason) || !strings.Contains(msg, tc.after) ||
				!strings.Contains(msg, fmt.Sprintf("j.db-wal: damaged record at offset %d (", tc.damageAt)) ||
				!strings.Contains(msg, `the journal was not opened; see docs/operations.md "Recovering a damaged journal"`) {
				t.Fatalf("damage %q; want at offset %d, %q, %q", msg, tc.damageAt, tc.reason, tc.after)
			}
			if got := keptIDs(sc); got != tc.kept {
				t.Fatalf("a recovery would keep %q, want %q", got, tc.kept)
			}
		})
	}
}

// hole zeroes the first whole sector of rec, which lies at file offset at.
func hole(rec []byte, at int) []byte {
	out := append([]byte{}, rec...)
	s := (at+sector-1)/sector*sector - at
	copy(out[s:s+sector], make([]byte, sector))
	return out
}

// crashed writes ids as pending loans into a new store at a temporary
// path, one sync each, and crashes it: it returns the path and each
// record's extent in the log.
func crashed(t *testing.T, ids ...string) (path string, extents [][2]int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	for _, id := range ids {
		s.log.mu.Lock()
		start := s.log.base(s.log.epoch) + s.log.off
		s.log.mu.Unlock()
		if err := s.PutLoan(context.Background(), pendingLoanOf(id, "p1")); err != nil {
			t.Fatal(err)
		}
		s.log.mu.Lock()
		extents = append(extents, [2]int64{start, s.log.base(s.log.epoch) + s.log.off})
		s.log.mu.Unlock()
	}
	crash(t, s)
	return path, extents
}

// flipBit flips one bit of the byte at off in the file.
func flipBit(t *testing.T, file string, off int64) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// The journal of a log with a bit flipped in its first record is not
// opened, by Open or by the driver the host uses, and nothing is written
// to the log or moved: the same bytes flipped back open with every loan.
func TestDamagedLogIsNotOpened(t *testing.T) {
	ctx := context.Background()
	path, ext := crashed(t, "ln_1", "ln_2", "ln_3")
	lp := walPath(path)
	flipBit(t, lp, ext[0][0]+30)
	before, _ := os.ReadFile(lp)
	want := fmt.Sprintf(`bolt store: %s: damaged record at offset %d (checksum mismatch; 2 whole records after it); the journal was not opened; see docs/operations.md "Recovering a damaged journal"`, lp, ext[0][0])
	for range 2 { // twice: the first refusal changed nothing
		_, err := Open(path)
		var d *DamageError
		if !errors.As(err, &d) || !errors.Is(err, journal.ErrDamaged) || err.Error() != want {
			t.Fatalf("Open = %v;\nwant %s", err, want)
		}
		_, err = journal.Open(ctx, "bolt", path)
		if !errors.Is(err, journal.ErrDamaged) {
			t.Fatalf("journal.Open = %v, want ErrDamaged", err)
		}
	}
	after, _ := os.ReadFile(lp)
	if string(before) != string(after) {
		t.Fatal("a refused open changed the log")
	}
	flipBit(t, lp, ext[0][0]+30)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 3 {
		t.Fatalf("PatronLoans = %d, %v; want 3", len(ls), err)
	}
}

// A crash after a checkpoint committed a pass but before its half was
// zeroed, or while it was (everything but its first sector zeroed): the
// next open reads the half as the earlier pass's, not as damage.
func TestReplayHalfWhoseCleaningWasCut(t *testing.T) {
	ctx := context.Background()
	for _, partly := range []bool{false, true} {
		t.Run(fmt.Sprintf("partly zeroed %v", partly), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			o := sized(16<<10, time.Hour)
			stop := make(chan struct{})
			committed := make(chan uint64, 8)
			o.afterCommit = func(pass uint64) {
				committed <- pass
				<-stop // the crash comes before the half is cleaned
			}
			s, err := open(path, o)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			var pass uint64
			for ; ; n++ { // until a half fills and its pass is committed
				if err := s.PutLoan(ctx, pendingLoanOf(fmt.Sprintf("ln_%03d", n), "p1")); err != nil {
					t.Fatal(err)
				}
				select {
				case pass = <-committed:
				default:
					continue
				}
				break
			}
			// The pass's records are in bolt; its half still holds them.
			s.log.mu.Lock()
			s.log.closed = true
			s.log.stopped = true
			close(s.log.kick)
			s.log.mu.Unlock()
			f := s.log.f
			s.c.close()
			f.Close()
			s.db.Close()
			close(stop)
			<-s.ckptDone
			if partly {
				lf, err := os.OpenFile(walPath(path), os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				base := int64(pass%2) * (8 << 10)
				lf.WriteAt(make([]byte, 8<<10-sector), base+sector)
				lf.Close()
			}
			s, err = open(path, sized(16<<10, time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != n+1 {
				t.Fatalf("PatronLoans = %d, %v; want %d", len(ls), err, n+1)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// A torn append (the last record half written: what it did not write of
// it is still zeros) ends the replay there; the same record with every
// byte written and one bit flipped is damage, and the journal is not
// opened.
func TestLogTornRecordIgnored(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(f *os.File, start, end int64) error
		torn   bool
	}{
		{"tail zeroed", func(f *os.File, start, end int64) error {
			_, err := f.WriteAt(make([]byte, end-start-40), start+40)
			return err
		}, true},
		{"bit flipped", func(f *os.File, start, end int64) error {
			b := make([]byte, 1)
			if _, err := f.ReadAt(b, end-3); err != nil {
				return err
			}
			_, err := f.WriteAt([]byte{b[0] ^ 0x10}, end-3)
			return err
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			s := openT(t, path)
			var start int64
			for _, id := range []string{"ln_1", "ln_2"} {
				s.log.mu.Lock()
				start = s.log.base(s.log.epoch) + s.log.off
				s.log.mu.Unlock()
				if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
					t.Fatal(err)
				}
			}
			s.log.mu.Lock()
			end := s.log.base(s.log.epoch) + s.log.off
			s.log.mu.Unlock()
			crash(t, s)
			f, err := os.OpenFile(walPath(path), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(f, start, end); err != nil {
				t.Fatal(err)
			}
			f.Close()
			s, err = open(path, sized(walSize, time.Hour))
			if !tc.torn {
				var d *DamageError
				if !errors.As(err, &d) || d.Offset != start || !errors.Is(err, journal.ErrDamaged) {
					t.Fatalf("open of a log with a flipped bit in its last record: %v; want a damage error at offset %d", err, start)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ls, err := s.LoansByStatus(ctx, "", statusPending, 10); err != nil || len(ls) != 1 || ls[0].ID != "ln_1" {
				t.Fatalf("LoansByStatus(pending) = %+v, %v; want ln_1 alone", ls, err)
			}
		})
	}
}

// A log an earlier build wrote (records of length, checksum summed with
// the pass, payload; no wal_format in the meta bucket) is replayed once at
// open, as that build read it, and the log goes on in the current format.
func TestLegacyLogReplayed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s := openT(t, path)
	s.log.mu.Lock()
	epoch := s.log.epoch - 1 // bolt's
	s.log.mu.Unlock()
	crash(t, s)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyWALFormat) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, walSize)
	off := int64((epoch+1)%2) * walSize / 2
	for _, id := range []string{"ln_1", "ln_2"} {
		payload := walRecord{op: opPut, key: string(loanKey("a", id)), loan: mustJSON(pendingLoanOf(id, "p1"))}.appendTo(nil)
		payload = payload[recordHeader : len(payload)-1]
		h := crc32.Update(0, castagnoli, binary.BigEndian.AppendUint64(nil, epoch+1))
		rec := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
		rec = binary.BigEndian.AppendUint32(rec, crc32.Update(h, castagnoli, payload))
		off += int64(copy(img[off:], append(rec, payload...)))
	}
	if err := os.WriteFile(walPath(path), img, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path)
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 2 {
		t.Fatalf("PatronLoans = %d, %v; want the legacy log's 2", len(ls), err)
	}
	if err := s.PutLoan(ctx, pendingLoanOf("ln_3", "p1")); err != nil {
		t.Fatal(err)
	}
	var m walMeta
	s.db.View(func(tx *bbolt.Tx) error { m = readWALMeta(tx); return nil })
	if m.format != walFormat {
		t.Fatalf("wal_format %d after the open, want %d", m.format, walFormat)
	}
	crash(t, s)
	s = openT(t, path)
	defer s.Close()
	if ls, err := s.PatronLoans(ctx, "a", "p1"); err != nil || len(ls) != 3 {
		t.Fatalf("PatronLoans = %d, %v; want 3", len(ls), err)
	}
}
