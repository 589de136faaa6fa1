package bolt

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The Store's side of the write-ahead log (wal.go): what the log holds,
// kept in memory until a checkpoint commits it into bolt, and how reads
// merge it with bolt's records. The overlay holds the latest state of each
// loan written since the last checkpoint (a deleted one as a tombstone)
// and the events appended since, in number order; a loan the overlay holds
// is newer than bolt's record of it, and every event it holds comes after
// bolt's last. A checkpoint takes l.mu, so a read that takes the overlay
// and begins its bolt transaction under l.mu sees the two as of one
// instant. A read returns an overlay entry only once the log is synced past
// it, so that nothing a crash could undo is ever seen: an event's number,
// once read, is never given to another event.

// overlay is what the log holds.
type overlay struct {
	loans  map[string]overLoan // by loanKey
	events []overEvent         // in number order; appended to only
	dedupe map[string]int      // dedupe key → index in events
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

func newOverlay() overlay {
	return overlay{loans: map[string]overLoan{}, dedupe: map[string]int{}}
}

// add applies a record to the overlay; ix is its loan's indexed members.
func (o *overlay) add(r walRecord, ix journal.Loan, end uint64) {
	switch r.op {
	case opPut, opApply:
		o.loans[r.key] = overLoan{ix: ix, json: r.loan, end: end}
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

// openLog opens the log of the store's file, checkpoints what it holds
// into bolt and numbers the next event.
func (s *Store) openLog(path string, size int64) error {
	var epoch uint64
	var ok bool
	_ = s.db.View(func(tx *bbolt.Tx) error {
		epoch, ok = walEpoch(tx)
		return nil
	})
	l, err := openWAL(path, size, epoch, ok)
	if err != nil {
		return err
	}
	if !ok {
		// A random first epoch: a stray log of another file (of the same
		// name, deleted since) is never read as this one's.
		var b [8]byte
		_, _ = rand.Read(b[:])
		l.epoch = binary.BigEndian.Uint64(b[:])
	}
	s.log = l
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := s.checkpointLocked(); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		l.nextSeq = tx.Bucket(bucketEvents).Sequence() + 1
		return nil
	})
}

// checkpointLocked commits what the log holds into bolt and starts the log
// again; s.log.mu is held (the committer never takes it).
func (s *Store) checkpointLocked() error {
	l := s.log
	o, next := l.over, l.epoch+1
	if err := s.update(func(tx *bbolt.Tx) error { return checkpointTx(tx, o, next) }); err != nil {
		return fmt.Errorf("bolt store: checkpointing its log: %w", err)
	}
	l.reset()
	return nil
}

// flush checkpoints the log unless it is empty, for the writes that go to
// bolt alone and need every event there (a purge, a webhook's start).
func (s *Store) flush() error {
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off == 0 && l.over.empty() {
		return nil
	}
	return s.checkpointLocked()
}

// checkpointTx writes o into bolt and moves the log's epoch to next.
func checkpointTx(tx *bbolt.Tx, o overlay, next uint64) error {
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
	return tx.Bucket(bucketMeta).Put(keyWALEpoch, binary.BigEndian.AppendUint64(nil, next))
}

// appendLocked seals rec and appends it, checkpointing first when the log
// is full; s.log.mu is held. ok is false for a record larger than the
// whole log: the caller commits it to bolt (commitLocked).
func (s *Store) appendLocked(rec []byte) (written uint64, ok bool, err error) {
	l := s.log
	if l.failed != nil {
		return 0, true, l.failed
	}
	if !l.fits(len(rec)) {
		if err := s.checkpointLocked(); err != nil {
			return 0, true, err
		}
		if !l.fits(len(rec)) {
			return 0, false, nil
		}
	}
	l.seal(rec)
	written, err = l.write(rec)
	return written, true, err
}

// commitLocked commits r, too large for the log, to bolt: the log is empty
// (appendLocked checkpointed it), so a checkpoint of r alone keeps the
// writes in order. s.log.mu is held.
func (s *Store) commitLocked(r walRecord, ix journal.Loan) error {
	l := s.log
	l.over.add(r, ix, 0)
	if err := s.checkpointLocked(); err != nil {
		// r is in the overlay, and readers would take it for journaled.
		l.failed = err
		return err
	}
	return nil
}

// logWrite journals a loan's write or deletion and returns once it is on
// disk.
func (s *Store) logWrite(r walRecord, ix journal.Loan) error {
	rec := r.encode()
	l := s.log
	l.mu.Lock()
	written, ok, err := s.appendLocked(rec)
	switch {
	case err != nil:
	case !ok:
		err = s.commitLocked(r, ix)
	default:
		l.over.add(r, ix, written)
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.syncTo(written)
}

// overLoanOf returns the overlay's state of the loan of key, once on disk.
func (s *Store) overLoanOf(key string) (overLoan, bool, error) {
	l := s.log
	l.mu.Lock()
	e, ok := l.over.loans[key]
	l.mu.Unlock()
	if !ok {
		return e, false, nil
	}
	return e, true, l.syncTo(e.end)
}

// viewLoans runs fn with a bolt read transaction and a copy of the
// overlay's loans as of the same instant, then waits until the log is
// synced past the overlay entries fn returned (their greatest end).
func (s *Store) viewLoans(fn func(tx *bbolt.Tx, loans map[string]overLoan) (uint64, error)) error {
	l := s.log
	l.mu.Lock()
	loans := maps.Clone(l.over.loans)
	tx, err := s.db.Begin(false)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	end, err := fn(tx, loans)
	_ = tx.Rollback()
	if err != nil {
		return err
	}
	return l.syncTo(end)
}

// viewEvents is viewLoans for the overlay's events.
func (s *Store) viewEvents(fn func(tx *bbolt.Tx, events []overEvent) (uint64, error)) error {
	l := s.log
	l.mu.Lock()
	events := l.over.events // appended to only: the first len stay as they are
	tx, err := s.db.Begin(false)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	end, err := fn(tx, events)
	_ = tx.Rollback()
	if err != nil {
		return err
	}
	return l.syncTo(end)
}

// overLoans decodes the overlay's loans that keep (deleted ones never do),
// and returns the greatest end among them.
func overLoans(loans map[string]overLoan, keep func(journal.Loan) bool) ([]journal.Loan, uint64, error) {
	var out []journal.Loan
	var end uint64
	for _, e := range loans {
		if e.json == nil || !keep(e.ix) {
			continue
		}
		var r journal.Loan
		if err := json.Unmarshal(e.json, &r); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
		end = max(end, e.end)
	}
	return out, end, nil
}

// boltDeduped returns the stored event of a dedupe key in bolt (nil: none)
// and the log epoch bolt was at.
func (s *Store) boltDeduped(key string) (ev []byte, epoch uint64, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		epoch, _ = walEpoch(tx)
		seq := tx.Bucket(bucketDedupe).Get([]byte(key))
		if seq == nil {
			return nil
		}
		if v := tx.Bucket(bucketEvents).Get(seq); v != nil {
			ev = bytes.Clone(v)
		}
		return nil
	})
	return ev, epoch, err
}
