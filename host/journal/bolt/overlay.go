package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The Store's side of the write-ahead log (wal.go): what the log holds,
// kept in memory until a checkpoint commits it into bolt, and how reads
// merge it with bolt's records. An overlay holds one pass: the latest state
// of each loan written in it (a deleted one as a tombstone) and the events
// appended in it, in number order. There are at most two, the pass being
// written and the frozen one being committed; a loan either holds is newer
// than bolt's record of it (the pass being written first), and every event
// they hold comes after bolt's last, unless the frozen pass was just
// committed (then bolt has the same). A frozen pass is dropped under l.mu
// once committed, so a read that looks at the overlays and begins its bolt
// transaction under l.mu never misses a write. A read returns an overlay
// entry only once the log is synced past it, so that nothing a crash could
// undo is ever seen: an event's number, once read, is never given to
// another event.

// overlay is what one pass of the log holds.
type overlay struct {
	loans    map[string]overLoan            // by loanKey
	byPatron map[string]map[string]struct{} // provider\0patron → the keys written with it
	events   []overEvent                    // in number order; appended to only
	dedupe   map[string]int                 // dedupe key → index in events
}

// overLoan is the latest state of a loan the log holds.
type overLoan struct {
	ix   journal.Loan // what places it in the indexes (indexed)
	json []byte       // its record; nil: deleted
	end  uint64       // the log's written count past its record (0: on disk)
}

// overEvent is an event the log holds.
type overEvent struct {
	seq    uint64
	json   []byte // its stored record (boltEvent.numbered)
	dedupe string
	end    uint64
}

func newOverlay() *overlay {
	return &overlay{loans: map[string]overLoan{}, byPatron: map[string]map[string]struct{}{}, dedupe: map[string]int{}}
}

// add applies a record to the overlay; ix is its loan's indexed members.
func (o *overlay) add(r walRecord, ix journal.Loan, end uint64) {
	switch r.op {
	case opPut, opApply:
		o.loans[r.key] = overLoan{ix: ix, json: r.loan, end: end}
		pk := ix.Provider + "\x00" + ix.Patron
		if o.byPatron[pk] == nil {
			o.byPatron[pk] = map[string]struct{}{}
		}
		o.byPatron[pk][r.key] = struct{}{}
	case opDelete:
		o.loans[r.key] = overLoan{end: end}
	}
	if r.op == opApply {
		o.events = append(o.events, overEvent{seq: r.seq, json: r.event, dedupe: r.dedupe, end: end})
		if r.dedupe != "" {
			o.dedupe[r.dedupe] = len(o.events) - 1
		}
	}
}

func (o *overlay) empty() bool { return len(o.loans) == 0 && len(o.events) == 0 }

// checkpointer commits each frozen pass into bolt, then drops it and
// cleans its half (walLog.clean) for the pass after the next. It also
// freezes the pass being written when it is older than s.ckptEvery (and
// not empty): the log then never holds more than that much of a quiet
// journal, the next open replays little, and a bolt file that cannot take
// a commit (a full disk) is found within that time, not a half later.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	l := s.log
	tick := time.NewTicker(s.ckptEvery)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-l.kick:
			if !ok {
				return
			}
		case <-tick.C:
			l.mu.Lock()
			if l.frozen == nil && l.ready > l.epoch && !l.closed && !l.over.empty() {
				_ = s.rotateLocked() // no pass is frozen and the next half is clean: it does not wait
			}
			l.mu.Unlock()
		}
		l.mu.Lock()
		o, epoch, off, written := l.frozen, l.frozenEpoch, l.frozenOff, l.frozenWritten
		l.mu.Unlock()
		if o == nil {
			continue
		}
		err := s.update(func(tx *bbolt.Tx) error { return checkpointTx(tx, o, epoch, l.size) })
		l.mu.Lock()
		if err != nil {
			l.ckptErr = fmt.Errorf("bolt store: committing its log: %w", err)
		} else {
			l.frozen, l.ckptErr = nil, nil
			l.gen.Add(1)
		}
		l.cond.Broadcast()
		l.mu.Unlock()
		if err != nil {
			continue
		}
		if s.afterCommit != nil {
			s.afterCommit(epoch)
		}
		// The pass is in bolt; once its own records are all written (a
		// sync may still hold some), its half is zeroed.
		err = l.syncTo(written)
		if err == nil {
			err = l.clean(epoch, off)
		}
		l.mu.Lock()
		if err != nil {
			// What the half holds is unknown: no pass may begin in it.
			if l.failed == nil {
				l.failed = err
			}
		} else {
			l.ready = max(l.ready, epoch+2)
		}
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

// rotateLocked freezes the pass being written, for the checkpointer to
// commit, and begins the next in the other half, once the pass frozen
// before is committed and that half cleaned; s.log.mu is held.
func (s *Store) rotateLocked() error {
	l := s.log
	from := l.epoch
	if err := s.waitFrozenLocked(); err != nil {
		return err
	}
	for l.epoch == from && l.ready <= l.epoch {
		switch {
		case l.stopped:
			return errBoltClosed
		case l.failed != nil:
			return l.failed
		}
		l.cond.Wait()
	}
	if l.epoch != from {
		// Another writer rotated the pass while this one waited: its
		// records are frozen, and the pass begun since is not full.
		return nil
	}
	l.frozen, l.frozenEpoch, l.frozenOff, l.frozenWritten = l.over, l.epoch, l.off, l.written
	l.over = newOverlay()
	l.epoch++
	l.off = 0
	l.kickCheckpointer()
	return nil
}

// kickCheckpointer wakes the checkpointer; l.mu is held.
func (l *walLog) kickCheckpointer() {
	if l.stopped {
		return
	}
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// waitFrozenLocked waits until no pass is frozen; s.log.mu is held (and
// released while waiting). While the frozen pass's commit fails, it
// returns that failure and has the commit tried again.
func (s *Store) waitFrozenLocked() error {
	l := s.log
	for l.frozen != nil {
		if l.stopped {
			return errBoltClosed
		}
		if err := l.ckptErr; err != nil {
			l.kickCheckpointer()
			return err
		}
		l.cond.Wait()
	}
	return nil
}

// flush commits what the log holds into bolt, for the writes that go to
// bolt alone and need every event there (a purge, a webhook's start), and
// for Close.
func (s *Store) flush() error {
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.over.empty() { // every record written adds to it
		return s.waitFrozenLocked()
	}
	if err := s.rotateLocked(); err != nil {
		return err
	}
	return s.waitFrozenLocked()
}

// checkpointTx writes o, the log's pass epoch, into bolt, and records
// that bolt has that pass, and the size of the log the next passes are
// written in (so that a log of another size, after an upgrade, is still
// replayed as it was written).
func checkpointTx(tx *bbolt.Tx, o *overlay, epoch uint64, size int64) error {
	// In key order: bbolt splits a node only at commit, so keys put in
	// random order into one node move its tail on every put.
	for _, key := range slices.Sorted(maps.Keys(o.loans)) {
		e := o.loans[key]
		provider, id, ok := strings.Cut(key, "\x00")
		if !ok {
			return fmt.Errorf("log: a loan under key %q", key)
		}
		if e.json == nil {
			if err := deleteLoanTx(tx, provider, id); err != nil {
				return err
			}
			continue
		}
		if e.ix.Provider != provider || e.ix.ID != id {
			return fmt.Errorf("log: loan %s/%s recorded under key %q", e.ix.Provider, e.ix.ID, key)
		}
		if err := putLoanJSON(tx, e.ix, e.json); err != nil {
			return err
		}
	}
	events := tx.Bucket(bucketEvents)
	events.FillPercent = appendFill
	dd := tx.Bucket(bucketDedupe)
	for _, e := range o.events {
		k := seqKey(e.seq)
		if err := events.Put(k, e.json); err != nil {
			return err
		}
		if e.dedupe != "" {
			if err := dd.Put([]byte(e.dedupe), k); err != nil {
				return err
			}
		}
	}
	if n := len(o.events); n > 0 && o.events[n-1].seq > events.Sequence() {
		if err := events.SetSequence(o.events[n-1].seq); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(keyWALSize, binary.BigEndian.AppendUint64(nil, uint64(size))); err != nil {
		return err
	}
	return meta.Put(keyWALEpoch, binary.BigEndian.AppendUint64(nil, epoch))
}

// roomLocked makes room for a record of n bytes: it says fit when the
// pass being written has it, and otherwise begins the next pass, which may
// wait for a commit and so release s.log.mu: the caller then checks again
// what it read under the lock (retry). A record larger than a whole half
// fits nowhere (tooLarge): the caller commits it to bolt (commitLocked).
func (s *Store) roomLocked(n int) (fit, tooLarge bool, err error) {
	l := s.log
	switch {
	case l.failed != nil:
		return false, false, l.failed
	case l.ckptErr != nil:
		// bolt takes no commit (a full disk, say): the log refuses
		// writes too, so that the host stops ordering now rather than a
		// half later, and every write has the commit tried again.
		l.kickCheckpointer()
		return false, false, l.ckptErr
	case l.fits(n):
		return true, false, nil
	case l.off == 0:
		return false, true, nil
	}
	return false, false, s.rotateLocked()
}

// commitLocked commits r, too large for the log, to bolt: the pass being
// written is empty, so committing r as a pass of its own keeps the writes
// in order. s.log.mu is held.
func (s *Store) commitLocked(r walRecord, ix journal.Loan) error {
	l := s.log
	l.over.add(r, ix, 0)
	err := s.rotateLocked()
	if err == nil {
		err = s.waitFrozenLocked()
	}
	if err != nil {
		// r is in an overlay, and readers would take it for journaled.
		l.failed = err
	}
	return err
}

// logWrite journals a loan's write or deletion, if x's compare holds, and
// returns once it is on disk. The compare runs in the same hold of the lock
// as the append (again after any wait for room, which releases the lock).
func (s *Store) logWrite(r walRecord, ix journal.Loan, x *expectation) error {
	size := r.size()
	l := s.log
	l.mu.Lock()
	var written uint64
	var err error
	for {
		var fit, tooLarge bool
		if fit, tooLarge, err = s.roomLocked(size); err != nil {
			break
		}
		var write bool
		if write, err = x.checkLocked(); err != nil {
			break
		}
		if !write {
			// Deleted already: once that deletion is on disk.
			written = x.seen
			break
		}
		if tooLarge {
			err = s.commitLocked(r, ix)
			break
		}
		if fit {
			written = l.write(r)
			l.over.add(r, ix, written)
			break
		}
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.syncTo(written)
}

// loanLocked returns the overlays' state of the loan of key; l.mu is held.
func (l *walLog) loanLocked(key string) (overLoan, bool) {
	if e, ok := l.over.loans[key]; ok {
		return e, true
	}
	if l.frozen != nil {
		e, ok := l.frozen.loans[key]
		return e, ok
	}
	return overLoan{}, false
}

// eventLocked returns the overlays' event of a dedupe key; l.mu is held.
func (l *walLog) eventLocked(dedupeKey string) (overEvent, bool) {
	for _, o := range []*overlay{l.over, l.frozen} {
		if o == nil {
			continue
		}
		if i, ok := o.dedupe[dedupeKey]; ok {
			return o.events[i], true
		}
	}
	return overEvent{}, false
}

// loansLocked returns the overlays' loans that keep (deleted ones never
// do), each in its latest state, from the keys of a pass's index (nil:
// all of the pass's); l.mu is held.
func (l *walLog) loansLocked(keys func(*overlay) []string, keep func(journal.Loan) bool) []overLoan {
	var out []overLoan
	seen := map[string]bool{}
	for _, o := range []*overlay{l.over, l.frozen} {
		if o == nil {
			continue
		}
		pick := func(key string) {
			if seen[key] {
				return
			}
			seen[key] = true
			if e, _ := l.loanLocked(key); e.json != nil && keep(e.ix) {
				out = append(out, e)
			}
		}
		if keys == nil {
			for key := range o.loans {
				pick(key)
			}
			continue
		}
		for _, key := range keys(o) {
			pick(key)
		}
	}
	return out
}

// overLoanOf returns the overlays' state of the loan of key, once on disk.
func (s *Store) overLoanOf(key string) (overLoan, bool, error) {
	l := s.log
	l.mu.Lock()
	e, ok := l.loanLocked(key)
	l.mu.Unlock()
	if !ok {
		return e, false, nil
	}
	return e, true, l.syncTo(e.end)
}

// decodeLoans decodes overlay loans (callers own what they get) and
// returns the greatest end among them.
func decodeLoans(es []overLoan) ([]journal.Loan, uint64, error) {
	out := make([]journal.Loan, 0, len(es))
	var end uint64
	for _, e := range es {
		var r journal.Loan
		if err := json.Unmarshal(e.json, &r); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
		end = max(end, e.end)
	}
	return out, end, nil
}

// boltDeduped returns the stored event of a dedupe key in bolt (nil: none).
func (s *Store) boltDeduped(key string) (ev []byte, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		seq := tx.Bucket(bucketDedupe).Get([]byte(key))
		if seq == nil {
			return nil
		}
		if v := tx.Bucket(bucketEvents).Get(seq); v != nil {
			ev = bytes.Clone(v)
		}
		return nil
	})
	return ev, err
}
