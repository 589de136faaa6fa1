package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The crash simulation. A run of checkouts from concurrent writers
// (pending, then active with its event, or deleted when the distributor
// refused), sharing syncs, on a log small enough that passes are committed
// into bolt in the background every few checkouts, is recorded: every
// write and sync of the log, and each commit into bolt with a copy of the
// file. Then, for every point of the run, the states a crash there could
// leave are built (every write before the last sync, and of the writes
// after it any part: exhaustively by sector when few, else every prefix,
// every one sector missing and a seeded sample of subsets; and writes torn
// at arbitrary bytes), and each is opened. Either the open refuses with
// the damage error, or every loan and event whose write was acknowledged
// before that point is there in its last acknowledged state (or a later
// one written meanwhile), and the next event's number is past every one
// acknowledged. A state a kill -9 leaves (the writes up to a point, the
// last one torn anywhere) always opens. Bits flipped in the records of a
// synced log always refuse.
//
// LENDGATE_CRASHSIM=n runs n times as many checkouts and samples (one by
// default; -short runs a smaller one).

// crashAck is a write the store acknowledged: after at operations.
type crashAck struct {
	id     string
	state  string // "pending", "active", "deleted"
	cursor string // active: its event's
	at     int
}

// crashResult is what an open of a state found.
type crashResult struct {
	refused bool
	why     string            // the refusal
	loans   map[string]string // id → status
	events  map[string]string // cursor → loan
	next    string            // the cursor of an event appended after the open
}

func TestCrashSimulation(t *testing.T) {
	scale := 1
	if v, err := strconv.Atoi(os.Getenv("LENDGATE_CRASHSIM")); err == nil && v > 0 {
		scale = v
	}
	writers, each := 4, 10*scale
	if testing.Short() {
		writers, each = 3, 5
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	lp := walPath(path)
	sim := newSimFS()
	const size = 8 << 10 // halves of 4 KiB: a pass every few checkouts
	o := sized(size, time.Hour)
	o.fs = sim
	var store atomic.Pointer[Store]
	o.afterCommit = func(pass uint64) { sim.note(pass, boltCopy(t, store.Load())) }
	s, err := open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	store.Store(s)
	base, firstSnap := sim.file(lp), boltCopy(t, s)
	firstEpoch := s.log.epoch - 1 // bolt's, committed at open
	sim.start()

	var mu sync.Mutex
	var acks []crashAck
	later := map[string][]string{} // id → its states in the order written
	ack := func(a crashAck) {
		a.at = sim.mark()
		mu.Lock()
		acks = append(acks, a)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("ln_%d_%02d", w, i)
				end := "active"
				if i%5 == 4 {
					end = "deleted" // refused by the distributor
				}
				mu.Lock()
				later[id] = []string{"pending", end}
				mu.Unlock()
				if err := s.PutLoan(ctx, pendingLoanOf(id, "p1")); err != nil {
					t.Error(err)
					return
				}
				ack(crashAck{id: id, state: "pending"})
				if end == "deleted" {
					if err := s.DeleteLoan(ctx, "a", id, 1); err != nil {
						t.Error(err)
						return
					}
					ack(crashAck{id: id, state: "deleted"})
					continue
				}
				placed := activeLoanOf(id, "p1", time.Now())
				placed.Version = 1 // the pending record's
				ev, _, err := s.Apply(ctx, placed, created(id), "created|"+id)
				if err != nil {
					t.Error(err)
					return
				}
				ack(crashAck{id: id, state: "active", cursor: ev.Cursor})
			}
		}()
	}
	wg.Wait()
	// The last pass committed too, and its half cleaned, within the run.
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	s.log.mu.Lock()
	for s.log.ready <= s.log.epoch && s.log.failed == nil {
		s.log.cond.Wait()
	}
	s.log.mu.Unlock()
	sim.stop()
	crash(t, s)
	if t.Failed() {
		return
	}
	ops := sim.ops
	commits := 0
	for _, op := range ops {
		if op.kind == simCommit {
			commits++
		}
	}
	if commits < 2 {
		t.Fatalf("%d commits into bolt during the run; the simulation needs several", commits)
	}

	c := &crashChecker{t: t, dir: dir, size: size, cache: map[[32]byte]crashResult{}}
	rng := rand.New(rand.NewPCG(7, uint64(scale)))
	synced := bytes.Clone(base) // the log as of the last sync before the point
	snap, epoch := firstSnap, firstEpoch
	var pending []simOp // the writes after that sync
	states, refusals, flips := 0, 0, 0
	for point := 0; point <= len(ops); point++ {
		if point > 0 {
			switch op := ops[point-1]; op.kind {
			case simWrite:
				pending = append(pending, op)
			case simSync:
				for _, w := range pending {
					copy(synced[w.off:], w.b)
				}
				pending = pending[:0]
			case simCommit:
				snap, epoch = op.snap, op.pass
			}
		}
		var acked []crashAck
		for _, a := range acks {
			if a.at <= point {
				acked = append(acked, a)
			}
		}
		for _, st := range crashStates(synced, pending, rng, scale) {
			states++
			r := c.result(snap, st.img)
			if r.refused {
				refusals++
				if st.prefix {
					t.Fatalf("point %d: a state a kill -9 leaves (%s) was refused: %s", point, st.how, r.why)
				}
				continue
			}
			if err := checkAcked(r, acked, later); err != nil {
				t.Fatalf("point %d, %s: %v", point, st.how, err)
			}
		}
		if len(pending) == 0 && point%2 == 0 { // a synced log: flipped bits refuse
			for range 2 * scale {
				img, at, ok := flipInRecord(synced, size, epoch, rng)
				if !ok {
					break
				}
				flips++
				if r := c.result(snap, img); !r.refused {
					t.Fatalf("point %d: a bit flipped at offset %d of a synced record was not refused", point, at)
				}
			}
		}
	}
	t.Logf("%d operations (%d commits into bolt), %d acknowledged writes; %d crash states (%d distinct opens), %d refused; %d bit flips refused",
		len(ops), commits, len(acks), states, len(c.cache), refusals, flips)
}

// crashState is a log a crash could leave.
type crashState struct {
	img    []byte
	how    string
	prefix bool // what a kill -9 leaves: the writes up to a point, the last torn
}

// crashStates are the states of a log whose synced part is synced and
// whose writes after the last sync are pending.
func crashStates(synced []byte, pending []simOp, rng *rand.Rand, scale int) []crashState {
	type unit struct{ off, end int64 } // a sector's part of a write
	var units []unit
	for _, w := range pending {
		for off := w.off; off < w.off+int64(len(w.b)); {
			end := min((off/sector+1)*sector, w.off+int64(len(w.b)))
			units = append(units, unit{off, end})
			off = end
		}
	}
	// The last write of a sector wins: units are applied in write order.
	data := func(u unit) []byte {
		for i := len(pending) - 1; i >= 0; i-- {
			if w := pending[i]; u.off >= w.off && u.end <= w.off+int64(len(w.b)) {
				return w.b[u.off-w.off : u.end-w.off]
			}
		}
		panic("unit of no write")
	}
	build := func(keep func(i int) bool) []byte {
		img := bytes.Clone(synced)
		for i, u := range units {
			if keep(i) {
				copy(img[u.off:u.end], data(u))
			}
		}
		return img
	}
	var out []crashState
	n := len(units)
	for k := 0; k <= n; k++ { // every prefix
		out = append(out, crashState{img: build(func(i int) bool { return i < k }), how: fmt.Sprintf("the first %d of %d sectors", k, n), prefix: true})
	}
	if n <= 6 {
		for mask := 0; mask < 1<<n; mask++ {
			out = append(out, crashState{img: build(func(i int) bool { return mask&(1<<i) != 0 }), how: fmt.Sprintf("sectors %b of %d", mask, n)})
		}
	} else {
		for k := range n {
			out = append(out, crashState{img: build(func(i int) bool { return i != k }), how: fmt.Sprintf("all but sector %d of %d", k, n)})
		}
		for range 8 * scale {
			m := rng.Uint64()
			out = append(out, crashState{img: build(func(i int) bool { return m&(1<<(i%64)) != 0 }), how: fmt.Sprintf("sectors %b of %d", m, n)})
		}
	}
	// Writes torn at any byte (mid-record, mid-header): the writes before,
	// and part of this one.
	for wi, w := range pending {
		for range 2 {
			cut := rng.IntN(len(w.b))
			img := bytes.Clone(synced)
			for _, p := range pending[:wi] {
				copy(img[p.off:], p.b)
			}
			copy(img[w.off:], w.b[:cut])
			out = append(out, crashState{img: img, how: fmt.Sprintf("write %d of %d torn after %d bytes", wi+1, len(pending), cut), prefix: true})
		}
	}
	return out
}

// flipInRecord flips a bit of a byte inside a whole record of the passes
// bolt (at epoch) would replay from img.
func flipInRecord(img []byte, size int64, epoch uint64, rng *rand.Rand) ([]byte, int64, bool) {
	var extents [][2]int64
	half := size / 2
	for _, pass := range []uint64{epoch + 1, epoch + 2} {
		base := int64(pass%2) * half
		h := img[base : base+half]
		for off := 0; ; {
			hd, ok := readHeader(h[off:])
			if !ok || hd.pass != pass || off+hd.size() > len(h) {
				break
			}
			if _, whole, _ := wholeRecord(h[off:off+hd.size()], hd); !whole {
				break
			}
			extents = append(extents, [2]int64{base + int64(off), base + int64(off+hd.size())})
			off += hd.size()
		}
	}
	if len(extents) == 0 {
		return nil, 0, false
	}
	e := extents[rng.IntN(len(extents))]
	at := e[0] + rng.Int64N(e[1]-e[0])
	out := bytes.Clone(img)
	out[at] ^= 1 << rng.IntN(8)
	return out, at, true
}

// crashChecker opens states, each once.
type crashChecker struct {
	t     *testing.T
	dir   string
	size  int64
	n     int
	cache map[[32]byte]crashResult
}

func (c *crashChecker) result(snap, img []byte) crashResult {
	h := sha256.New()
	h.Write(snap)
	h.Write(img)
	var key [32]byte
	h.Sum(key[:0])
	if r, ok := c.cache[key]; ok {
		return r
	}
	r := c.open(snap, img)
	c.cache[key] = r
	return r
}

// open opens bolt's file snap beside the log img, reads every loan and
// event, and appends one event.
func (c *crashChecker) open(snap, img []byte) crashResult {
	t := c.t
	ctx := context.Background()
	c.n++
	path := filepath.Join(c.dir, fmt.Sprintf("state-%d.db", c.n))
	if err := os.WriteFile(path, snap, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	sim := newSimFS()
	sim.files[walPath(path)] = bytes.Clone(img)
	o := sized(c.size, time.Hour)
	o.fs, o.noSync = sim, true
	s, err := open(path, o)
	if err != nil {
		var d *DamageError
		if !errors.As(err, &d) || !errors.Is(err, journal.ErrDamaged) {
			t.Fatalf("open failed, not as damage: %v", err)
		}
		return crashResult{refused: true, why: err.Error()}
	}
	defer s.Close()
	r := crashResult{loans: map[string]string{}, events: map[string]string{}}
	for _, status := range []string{statusPending, journal.StatusActive} {
		ls, err := s.LoansByStatus(ctx, "", status, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			r.loans[l.ID] = l.Status
		}
	}
	evs, err := s.Events(ctx, "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if _, dup := r.events[e.Cursor]; dup {
			t.Fatalf("event %s twice", e.Cursor)
		}
		r.events[e.Cursor] = e.Loan
	}
	ev, _, err := s.Apply(ctx, activeLoanOf("ln_after", "p1", time.Now()), created("ln_after"), "")
	if err != nil {
		t.Fatal(err)
	}
	r.next = ev.Cursor
	return r
}

// checkAcked says what of the acknowledged writes r lacks.
func checkAcked(r crashResult, acked []crashAck, later map[string][]string) error {
	last := map[string]crashAck{}
	for _, a := range acked {
		last[a.id] = a
		if a.cursor != "" {
			if r.events[a.cursor] != a.id {
				return fmt.Errorf("acknowledged event %s of %s: found %q", a.cursor, a.id, r.events[a.cursor])
			}
			if r.next <= a.cursor {
				return fmt.Errorf("the event appended after the open got %s, not past the acknowledged %s", r.next, a.cursor)
			}
		}
	}
	for cur := range r.events {
		if r.next <= cur {
			return fmt.Errorf("the event appended after the open got %s, not past %s", r.next, cur)
		}
	}
	for id, a := range last {
		got, ok := r.loans[id]
		if !ok {
			got = "deleted"
		}
		states := later[id]
		for len(states) > 0 && states[0] != a.state {
			states = states[1:]
		}
		if !slices.Contains(states, got) {
			return fmt.Errorf("loan %s, acknowledged %s: found %s", id, a.state, got)
		}
	}
	return nil
}

// boltCopy is the bolt file as committed.
func boltCopy(t *testing.T, s *Store) []byte {
	var buf bytes.Buffer
	if err := s.db.View(func(tx *bbolt.Tx) error { _, err := tx.WriteTo(&buf); return err }); err != nil {
		t.Error(err)
	}
	return buf.Bytes()
}
