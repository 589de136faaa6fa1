package bolt

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"maps"
	"sort"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The Store's side of the pending log (pendinglog.go): which writes go to
// it, and how reads merge the loans it holds with bolt's. A loan the log
// holds has no record and no index entry in bolt; the first bolt write of
// it indexes it afresh, and the log then forgets it. Reads take the log's
// loans first and bolt's after, so that a loan moving from the log to bolt
// meanwhile is seen in one or both (bolt's record wins), never in neither.

// openLog opens the pending log of the store's file and checkpoints what
// it holds into bolt.
func (s *Store) openLog(path string) error {
	var epoch uint64
	var ok bool
	_ = s.db.View(func(tx *bbolt.Tx) error {
		epoch, ok = pendingEpoch(tx)
		return nil
	})
	l, err := openPendingLog(path, epoch, ok)
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
	return s.checkpointLocked()
}

// checkpointLocked commits the loans the log holds into bolt and starts
// the log again; s.log.mu is held (the committer never takes it).
func (s *Store) checkpointLocked() error {
	l := s.log
	loans := maps.Clone(l.loans)
	if err := s.update(func(tx *bbolt.Tx) error { return l.checkpointTx(tx, loans) }); err != nil {
		return err
	}
	l.reset()
	return nil
}

// putPending journals r, pending, in the pending log if bolt has no record
// of it (ok false: it has, the caller writes bolt). It returns once the
// record is synced.
func (s *Store) putPending(r journal.Loan, b []byte) (ok bool, err error) {
	l := s.log
	key := string(loanKey(r.Provider, r.ID))
	l.mu.Lock() // across the bolt read, so that no checkpoint moves the loan meanwhile
	if s.inBolt(key) {
		l.mu.Unlock()
		return false, nil
	}
	rec := l.record(opPut, key, b)
	if !l.fits(len(rec)) {
		if err := s.checkpointLocked(); err != nil {
			l.mu.Unlock()
			return true, err
		}
		rec = l.record(opPut, key, b) // summed with the new epoch
		if !l.fits(len(rec)) {
			l.mu.Unlock()
			return false, nil // a loan record of megabytes: bolt takes it
		}
	}
	written, err := l.write(rec)
	if err == nil {
		// What places it in the indexes, copied: the caller keeps r's
		// maps and pointers, and reads decode b afresh.
		ix := journal.Loan{ID: r.ID, Provider: r.Provider, Patron: r.Patron, Status: r.Status}
		l.loans[key] = pendingLoan{loan: ix, json: b}
		l.seen[key] = struct{}{}
	}
	l.mu.Unlock()
	if err != nil {
		return true, err
	}
	if err := l.syncTo(written); err != nil {
		// Not journaled, as far as the caller knows: not listed either
		// (the record may still reach the disk, and come back at open as
		// a pending loan the sweeper settles).
		l.settled(key, b)
		return true, err
	}
	return true, nil
}

// inBolt says whether bolt has a record of the loan of key.
func (s *Store) inBolt(key string) bool {
	var ok bool
	_ = s.db.View(func(tx *bbolt.Tx) error {
		k := []byte(key)
		ok = tx.Bucket(bucketLoans).Get(k) != nil || tx.Bucket(bucketPending).Get(k) != nil
		return nil
	})
	return ok
}

// deleteLogged writes a synced tombstone for the loan of key if this
// epoch of the log has a put record of it, so that no replay brings it
// back, and forgets it. It returns whether bolt has a record of it too,
// for the caller to delete.
func (s *Store) deleteLogged(key string) (inBolt bool, err error) {
	l := s.log
	l.mu.Lock()
	if _, ok := l.seen[key]; !ok {
		l.mu.Unlock()
		return true, nil // never logged (or checkpointed since): bolt's alone
	}
	rec := l.record(opDelete, key, nil)
	if !l.fits(len(rec)) {
		err := s.checkpointLocked() // the loan is in bolt now, the log empty
		l.mu.Unlock()
		return true, err
	}
	written, err := l.write(rec)
	if err == nil {
		delete(l.loans, key)
		delete(l.seen, key)
	}
	l.mu.Unlock()
	if err == nil {
		err = l.syncTo(written)
	}
	if err != nil {
		return false, err
	}
	return s.inBolt(key), nil
}

// logged returns the log's record of a loan, for a write of it to tell
// the log once bolt has it (see pendingLog.settled).
func (s *Store) logged(provider, id string) (key string, was []byte) {
	key = string(loanKey(provider, id))
	if p, ok := s.log.get(key); ok {
		return key, p.json
	}
	return key, nil
}

// loggedLoans returns the loans only the log holds that keep, decoded
// afresh (callers own what they get), for a read to merge with bolt's.
func (s *Store) loggedLoans(keep func(journal.Loan) bool) ([]journal.Loan, error) {
	var out []journal.Loan
	for _, p := range s.log.snapshot() {
		if !keep(p.loan) {
			continue
		}
		var r journal.Loan
		if err := json.Unmarshal(p.json, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// mergeLogged adds to out, in tx, the loans of logged bolt has no record
// of, and sorts the whole by id (then provider).
func mergeLogged(tx *bbolt.Tx, out, logged []journal.Loan) []journal.Loan {
	if len(logged) == 0 {
		return out
	}
	for _, r := range logged {
		if loanJSON(tx, r.Provider, r.ID) == nil {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Provider < out[j].Provider
	})
	return out
}
