package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The bolt journal's layout. Every query the host makes is a prefix or
// range scan of one bucket, so none reads the whole journal:
//
//	loans              provider\0id              → journal.Loan (JSON), every status but pending
//	patron_loans       provider\0patron\0id      → nil   PatronLoans
//	loans_by_status    status\0provider\0id      → nil   LoansByStatus, every status but pending
//	loans_pending      provider\0id              → journal.Loan (JSON) of a pending loan   LoansByStatus
//	loans_by_expiry    expiry\0provider\0id      → nil   ExpiredLoans (active loans with an expiry)
//	events             seq                       → journal.Event (JSON)   Events after a cursor
//	event_dedupe       dedupe key                → seq
//	event_dedupe_keys  seq                       → dedupe key     purging the key of an event of layout 2
//	idempotency        scope\0key                → journal.IdempotencyRecord (JSON)
//	idempotency_by_created  created\0scope\0key  → nil   PurgeIdempotency
//	meta               "layout"                  → layout version (of the indexes)
//	                   "schema"                  → journal.SchemaVersion (of the records; none: 1)
//	                   "wal_epoch", "wal_size"   → the last pass of the write-ahead log bolt has, and the log's size (wal.go)
//
// An event written since layout 3 keeps its dedupe key in its own record
// (event.go: boltDedupeMember), for the purge to find.
//
// A pending loan's record is kept in a bucket of its own, whose keys are
// also the pending range of the status index: a loan is pending only while
// its checkout runs (the sweeper turns one left over unknown), so the
// bucket stays small (stored inline in its parent, or a page or two), and
// a pending loan written to bolt (a checkpoint of the write-ahead log,
// wal.go, or a loan turned pending again) rewrites no leaf and
// branches of the large loans and status trees. A checkout writes each
// large tree once (into loans, into the active range of loans_by_status).
//
// seq is a big-endian uint64 and a time a big-endian uint64 of Unix
// nanoseconds shifted by 2^63, so that both sort as bytes in order.
var (
	bucketLoans       = []byte("loans")
	bucketPatrons     = []byte("patron_loans")
	bucketByStatus    = []byte("loans_by_status")
	bucketPending     = []byte("loans_pending")
	bucketByExpiry    = []byte("loans_by_expiry")
	bucketEvents      = []byte("events")
	bucketDedupe      = []byte("event_dedupe")
	bucketDedupeBySeq = []byte("event_dedupe_keys")
	bucketIdem        = []byte("idempotency")
	bucketIdemCreated = []byte("idempotency_by_created")
	bucketMeta        = []byte("meta")

	boltBuckets = [][]byte{bucketLoans, bucketPatrons, bucketByStatus, bucketPending, bucketByExpiry, bucketEvents,
		bucketDedupe, bucketDedupeBySeq, bucketIdem, bucketIdemCreated, bucketMeta}
)

// boltLayout is the layout version this code writes. Files of version 1
// (loans, patron_loans, events, event_dedupe, idempotency only) get their
// indexes built once, at open; files of version 2 (pending loans in loans
// and loans_by_status) get their pending loans moved to loans_pending.
const boltLayout = 3

// statusPending is the status whose loans loans_pending keeps.
const statusPending = "pending"

var (
	keyLayout = []byte("layout")
	keySchema = []byte("schema")
)

// schemaVersion reads the records' schema version of a file: a file
// written before it was kept has none, and is of version 1.
func schemaVersion(meta *bbolt.Bucket) (uint64, error) {
	v := meta.Get(keySchema)
	switch {
	case v == nil:
		return 1, nil
	case len(v) != 8:
		return 0, fmt.Errorf("its schema version is %d bytes long, not 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func loanKey(provider, id string) []byte { return []byte(provider + "\x00" + id) }

func patronKey(provider, patron, id string) []byte {
	return []byte(provider + "\x00" + patron + "\x00" + id)
}

// statusRange is the bucket and key prefix of status's loans in the
// status index: pending loans are all of loans_pending.
func statusRange(tx *bbolt.Tx, status string) (*bbolt.Bucket, []byte) {
	if status == statusPending {
		return tx.Bucket(bucketPending), nil
	}
	return tx.Bucket(bucketByStatus), []byte(status + "\x00")
}

// putStatus adds a loan's entry to the status index; a pending loan's is
// its record's key in loans_pending, written with the record.
func putStatus(tx *bbolt.Tx, status, provider, id string) error {
	if status == statusPending {
		return nil
	}
	return tx.Bucket(bucketByStatus).Put([]byte(status+"\x00"+provider+"\x00"+id), nil)
}

// deleteStatus removes a loan's entry from the status index (see putStatus).
func deleteStatus(tx *bbolt.Tx, status, provider, id string) error {
	if status == statusPending {
		return nil
	}
	return tx.Bucket(bucketByStatus).Delete([]byte(status + "\x00" + provider + "\x00" + id))
}

func timeKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^(1<<63))
}

func expiryKey(t time.Time, provider, id string) []byte {
	return append(timeKey(t), provider+"\x00"+id...)
}

func idemKey(scope, key string) string { return scope + "\x00" + key }

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func idemCreatedKey(r journal.IdempotencyRecord) []byte {
	return append(timeKey(r.CreatedAt), idemKey(r.Scope, r.Key)...)
}

// expiring says whether r belongs in the expiry index: the sweeper looks
// only for active loans past their expiry.
func expiring(r journal.Loan) bool { return r.Status == journal.StatusActive && r.ExpiresAt != nil }

// indexLoan adds r's index entries.
func indexLoan(tx *bbolt.Tx, r journal.Loan) error {
	l := r
	if err := tx.Bucket(bucketPatrons).Put(patronKey(l.Provider, l.Patron, l.ID), nil); err != nil {
		return err
	}
	if err := putStatus(tx, l.Status, l.Provider, l.ID); err != nil {
		return err
	}
	if expiring(r) {
		return tx.Bucket(bucketByExpiry).Put(expiryKey(*l.ExpiresAt, l.Provider, l.ID), nil)
	}
	return nil
}

// reindexLoan moves the index entries of a loan from prev to r, touching
// only those that change: every page a commit dirties is written and
// synced, and a checkout's second write changes its status and expiry but
// not its patron.
func reindexLoan(tx *bbolt.Tx, prev, r journal.Loan) error {
	p, l := prev, r
	if p.Patron != l.Patron {
		b := tx.Bucket(bucketPatrons)
		if err := b.Delete(patronKey(p.Provider, p.Patron, p.ID)); err != nil {
			return err
		}
		if err := b.Put(patronKey(l.Provider, l.Patron, l.ID), nil); err != nil {
			return err
		}
	}
	if p.Status != l.Status {
		if err := deleteStatus(tx, p.Status, p.Provider, p.ID); err != nil {
			return err
		}
		if err := putStatus(tx, l.Status, l.Provider, l.ID); err != nil {
			return err
		}
	}
	var pk, rk []byte
	if expiring(prev) {
		pk = expiryKey(*p.ExpiresAt, p.Provider, p.ID)
	}
	if expiring(r) {
		rk = expiryKey(*l.ExpiresAt, l.Provider, l.ID)
	}
	if bytes.Equal(pk, rk) {
		return nil
	}
	b := tx.Bucket(bucketByExpiry)
	if pk != nil {
		if err := b.Delete(pk); err != nil {
			return err
		}
	}
	if rk != nil {
		return b.Put(rk, nil)
	}
	return nil
}

// unindexLoan removes r's index entries.
func unindexLoan(tx *bbolt.Tx, r journal.Loan) error {
	l := r
	if err := tx.Bucket(bucketPatrons).Delete(patronKey(l.Provider, l.Patron, l.ID)); err != nil {
		return err
	}
	if err := deleteStatus(tx, l.Status, l.Provider, l.ID); err != nil {
		return err
	}
	if expiring(r) {
		return tx.Bucket(bucketByExpiry).Delete(expiryKey(*l.ExpiresAt, l.Provider, l.ID))
	}
	return nil
}

// migrateBolt creates the buckets and, for a file of an older layout,
// builds the indexes it lacks from the records.
func migrateBolt(tx *bbolt.Tx) error {
	for _, b := range boltBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	schema, err := schemaVersion(meta)
	if err != nil {
		return err
	}
	if schema > journal.SchemaVersion {
		return fmt.Errorf("the journal is of schema %d, newer than this program's (%d): run a newer lendgate, or restore a copy of the file", schema, journal.SchemaVersion)
	}
	if schema < journal.SchemaVersion {
		// Readers take records of every older schema: only the version
		// moves, so that a newer program can tell.
		if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, journal.SchemaVersion)); err != nil {
			return err
		}
	}
	var layout uint64
	if v := meta.Get(keyLayout); len(v) == 8 {
		layout = binary.BigEndian.Uint64(v)
	}
	switch {
	case layout >= boltLayout:
		return nil
	case layout == 2:
		if err := movePending(tx); err != nil {
			return err
		}
	default:
		if err := buildIndexes(tx); err != nil {
			return err
		}
	}
	return meta.Put(keyLayout, binary.BigEndian.AppendUint64(nil, boltLayout))
}

// movePending moves the pending loans of a file of layout 2 (their
// records in loans, their entries in loans_by_status) to loans_pending.
func movePending(tx *bbolt.Tx) error {
	byStatus := tx.Bucket(bucketByStatus)
	prefix := []byte(statusPending + "\x00")
	var keys [][]byte
	c := byStatus.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte{}, k...))
	}
	for _, k := range keys {
		if err := byStatus.Delete(k); err != nil {
			return err
		}
		if err := moveRecord(tx, k[len(prefix):]); err != nil {
			return err
		}
	}
	return nil
}

// moveRecord moves the record of key from loans to loans_pending.
func moveRecord(tx *bbolt.Tx, key []byte) error {
	loans := tx.Bucket(bucketLoans)
	v := loans.Get(key)
	if v == nil {
		return nil // an index entry without its record: nothing to move
	}
	if err := tx.Bucket(bucketPending).Put(key, append([]byte{}, v...)); err != nil {
		return err
	}
	return loans.Delete(key)
}

// buildIndexes builds every index of a file of layout 1 from its records.
func buildIndexes(tx *bbolt.Tx) error {
	var pending [][]byte // keys of pending loans, moved once the loop ends
	err := tx.Bucket(bucketLoans).ForEach(func(k, v []byte) error {
		var r journal.Loan
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.Status == statusPending {
			pending = append(pending, append([]byte{}, k...))
		}
		return indexLoan(tx, r)
	})
	if err != nil {
		return err
	}
	for _, k := range pending {
		if err := moveRecord(tx, k); err != nil {
			return err
		}
	}
	bySeq := tx.Bucket(bucketDedupeBySeq)
	err = tx.Bucket(bucketDedupe).ForEach(func(k, v []byte) error { return bySeq.Put(v, k) })
	if err != nil {
		return err
	}
	created := tx.Bucket(bucketIdemCreated)
	return tx.Bucket(bucketIdem).ForEach(func(_, v []byte) error {
		var r journal.IdempotencyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		return created.Put(idemCreatedKey(r), nil)
	})
}

// prefixKeys returns the suffixes of up to limit keys of b that start with
// prefix (limit <= 0: all), in key order.
func prefixKeys(b *bbolt.Bucket, prefix []byte, limit int) []string {
	var out []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, string(k[len(prefix):]))
	}
	return out
}
