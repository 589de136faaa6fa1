package bolt

import (
	"fmt"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The compare of the loan writes' compare-and-set (journal.Store): a
// write expects the version its writer read, and it is compared with the
// loan's latest state under the log's lock, in the same hold as the
// append (logWrite, Apply).

// versioned is indexed(r) with r's version: the overlay keeps it for the
// compare of the loan's next write.
func versioned(r journal.Loan) journal.Loan {
	ix := indexed(r)
	ix.Version = r.Version
	return ix
}

// expectation is the compare of a loan write's compare-and-set: the
// version the writer read (0: none), checked under the log's lock, in the
// same hold as the append, against the loan's latest state: the overlays'
// if they hold it, else bolt's record. Bolt's is read before the lock and
// holds unless a pass was committed and dropped from memory meanwhile (the
// log's gen moved: then it is read again under the lock), as Apply's
// dedupe answer is.
type expectation struct {
	s            *Store
	provider, id string
	key          string
	want         int64
	del          bool   // a deletion: a missing loan is deleted already
	gen          uint64 // the log's gen when bolt was read
	bolt         int64  // bolt's version of the loan (0: none)
	seen         uint64 // the log's written count past the overlay state checked (0: on disk)
	stale        bool   // bolt's version is to be read again
}

// expect reads bolt's version of a loan for a write that expects want. A
// read that fails is made again under the lock, whose failure (or the
// log's, a closed store's) is the write's.
func (s *Store) expect(provider, id string, want int64, del bool) *expectation {
	x := &expectation{s: s, provider: provider, id: id, key: string(loanKey(provider, id)), want: want, del: del,
		gen: s.log.gen.Load()}
	v, err := s.boltVersion(provider, id)
	if err != nil {
		x.stale = true
	}
	x.bolt = v
	return x
}

// boltVersion is the version of a loan's record in bolt (0: none).
func (s *Store) boltVersion(provider, id string) (v int64, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		r, err := getLoanIndexed(tx, provider, id)
		if err == journal.ErrNotFound {
			return nil
		}
		v = r.Version
		return err
	})
	return v, err
}

// checkLocked compares: it says whether to write (false: a deletion of a
// loan already gone) or returns journal.ErrConflict; s.log.mu is held.
func (x *expectation) checkLocked() (write bool, err error) {
	l := x.s.log
	var cur int64
	if e, ok := l.loanLocked(x.key); ok {
		x.seen = e.end
		if e.json != nil {
			cur = e.ix.Version
		}
	} else {
		x.seen = 0
		if now := l.gen.Load(); now != x.gen || x.stale {
			x.gen = now
			if x.bolt, err = x.s.boltVersion(x.provider, x.id); err != nil {
				return false, err
			}
			x.stale = false
		}
		cur = x.bolt
	}
	switch {
	case x.del && cur == 0:
		return false, nil
	case cur != x.want:
		return false, fmt.Errorf("loan %s/%s is at version %d, not %d: %w", x.provider, x.id, cur, x.want, journal.ErrConflict)
	}
	return true, nil
}
