package bolt

import (
	"fmt"
	"strings"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// DamageError is Open's error for a write-ahead log it cannot read whole:
// a damaged record (Offset is its byte offset in the file), or a log
// missing or cut short beside a file that was not closed cleanly. The
// journal was not opened; errors.Is(err, journal.ErrDamaged) holds.
// Recover opens it, dropping what follows the damage.
type DamageError struct {
	Log    string // the log's path (<file>-wal)
	Offset int64  // the damaged record's byte offset in the log; -1: the log is missing
	Pass   uint64 // the pass the damaged record belongs to (0: not a record)
	Reason string
	// After is how many whole records were found after the damage: they
	// cannot be trusted, for what came between them is lost.
	After int
}

func (e *DamageError) Error() string {
	what := fmt.Sprintf("damaged record at offset %d (%s", e.Offset, e.Reason)
	switch {
	case e.Offset < 0:
		what = e.Reason
	case e.After > 0:
		what += "; " + records(e.After) + " after it"
	}
	if e.Offset >= 0 {
		what += ")"
	}
	return fmt.Sprintf("bolt store: %s: %s; the journal was not opened; see docs/operations.md %q", e.Log, what, "Recovering a damaged journal")
}

// Is makes errors.Is(err, journal.ErrDamaged) hold.
func (e *DamageError) Is(target error) bool { return target == journal.ErrDamaged }

// Recovery is what Recover did.
type Recovery struct {
	Log string // the log's path
	// Damage is what was wrong (nil: nothing; the journal opened as it
	// was, and nothing was moved or dropped).
	Damage *DamageError
	// MovedTo is where the damaged log now is ("" when it was missing).
	MovedTo string
	// Kept is how many records before the damage were replayed into the
	// file; Dropped how many whole records after it were not, and Unread
	// how many bytes after it no whole record accounts for.
	Kept, Dropped, Unread int
	// NextEvent is the number the next event gets: past every number the
	// dropped part of the log held or could have held, so that no event
	// number is given twice.
	NextEvent uint64
}

func (r Recovery) String() string {
	if r.Damage == nil {
		return fmt.Sprintf("journal log %s: whole, nothing to recover", r.Log)
	}
	var b strings.Builder
	if r.Damage.Offset < 0 {
		fmt.Fprintf(&b, "journal log %s: %s", r.Log, r.Damage.Reason)
	} else {
		fmt.Fprintf(&b, "journal log %s: damaged at offset %d (%s)", r.Log, r.Damage.Offset, r.Damage.Reason)
	}
	if r.Damage.Offset >= 0 {
		fmt.Fprintf(&b, "; kept %s before it", records(r.Kept))
		fmt.Fprintf(&b, "; dropped %s after it", records(r.Dropped))
		if r.Unread > 0 {
			fmt.Fprintf(&b, " and %d bytes no whole record accounts for (the damaged one's among them)", r.Unread)
		}
	}
	if r.MovedTo != "" {
		fmt.Fprintf(&b, "; the damaged log is kept at %s", r.MovedTo)
	}
	fmt.Fprintf(&b, "; events go on from number %d", r.NextEvent)
	return b.String()
}

// Recover opens the journal at path as Open does, but a damaged log does
// not stop it: the records before the damage are committed into the file,
// the damaged log is moved aside (to <file>-wal.damaged-<time>, never
// deleted) and a new one begins; a log missing or cut short is taken as
// it is. Event numbers go on past every number the dropped part held or
// could have held. It then closes the journal and reports what it did. A
// whole log is replayed as Open would, and nothing is moved.
//
// What is dropped may include loans and events that were acknowledged:
// recovery is the operator's decision (docs/operations.md "Recovering a
// damaged journal"), never the store's.
func Recover(path string) (Recovery, error) {
	var rec Recovery
	o := defaultOptions()
	o.recovery = &rec
	s, err := open(path, o)
	if err != nil {
		return rec, err
	}
	return rec, s.Close()
}

// minApplyRecord is the smallest record an Apply writes: a bound on how
// many event numbers a run of unreadable bytes could have held.
const minApplyRecord = recordOverhead + 7

// numbersIn bounds the event numbers n bytes of log could hold.
func numbersIn(n int64) uint64 { return uint64((n + minApplyRecord - 1) / minApplyRecord) }

// damagedName is where a damaged log at lp is moved.
func damagedName(lp string, now time.Time) string {
	return lp + ".damaged-" + now.UTC().Format("20060102T150405.000000000Z")
}

// records says n whole records.
func records(n int) string {
	if n == 1 {
		return "1 whole record"
	}
	return fmt.Sprintf("%d whole records", n)
}
