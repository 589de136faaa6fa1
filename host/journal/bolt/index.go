package host

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The bolt journal's layout. Every query the host makes is a prefix or
// range scan of one bucket, so none reads the whole journal:
//
//	loans              provider\0id              → LoanRecord (JSON)
//	patron_loans       provider\0patron\0id      → nil   PatronLoans
//	loans_by_status    status\0provider\0id      → nil   LoansByStatus (the sweeper's pending pass)
//	loans_by_expiry    expiry\0provider\0id      → nil   ExpiredLoans (active loans with an expiry)
//	events             seq                       → Event (JSON)   Events after a cursor
//	event_dedupe       dedupe key                → seq
//	event_dedupe_keys  seq                       → dedupe key     purging an event's key with it
//	idempotency        scope\0key                → IdempotencyRecord (JSON)
//	idempotency_by_created  created\0scope\0key  → nil   PurgeIdempotency
//	meta               "layout"                  → layout version
//
// seq is a big-endian uint64 and a time a big-endian uint64 of Unix
// nanoseconds shifted by 2^63, so that both sort as bytes in order.
var (
	bucketLoans       = []byte("loans")
	bucketPatrons     = []byte("patron_loans")
	bucketByStatus    = []byte("loans_by_status")
	bucketByExpiry    = []byte("loans_by_expiry")
	bucketEvents      = []byte("events")
	bucketDedupe      = []byte("event_dedupe")
	bucketDedupeBySeq = []byte("event_dedupe_keys")
	bucketIdem        = []byte("idempotency")
	bucketIdemCreated = []byte("idempotency_by_created")
	bucketMeta        = []byte("meta")

	boltBuckets = [][]byte{bucketLoans, bucketPatrons, bucketByStatus, bucketByExpiry, bucketEvents,
		bucketDedupe, bucketDedupeBySeq, bucketIdem, bucketIdemCreated, bucketMeta}
)

// boltLayout is the layout version this code writes. Files of version 1
// (loans, patron_loans, events, event_dedupe, idempotency only) get their
// indexes built once, at open.
const boltLayout = 2

var keyLayout = []byte("layout")

func loanKey(provider, id string) []byte { return []byte(provider + "\x00" + id) }

func patronKey(provider, patron, id string) []byte {
	return []byte(provider + "\x00" + patron + "\x00" + id)
}

func statusKey(status, provider, id string) []byte {
	return []byte(status + "\x00" + provider + "\x00" + id)
}

func timeKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^(1<<63))
}

func expiryKey(t time.Time, provider, id string) []byte {
	return append(timeKey(t), provider+"\x00"+id...)
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func idemCreatedKey(r IdempotencyRecord) []byte {
	return append(timeKey(r.CreatedAt), idemKey(r.Scope, r.Key)...)
}

// expiring says whether r belongs in the expiry index: the sweeper looks
// only for active loans past their expiry.
func expiring(r LoanRecord) bool { return r.Loan.Status == StatusActive && r.Loan.ExpiresAt != nil }

// indexLoan adds r's index entries.
func indexLoan(tx *bolt.Tx, r LoanRecord) error {
	l := r.Loan
	if err := tx.Bucket(bucketPatrons).Put(patronKey(l.Provider, l.Patron, l.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(bucketByStatus).Put(statusKey(l.Status, l.Provider, l.ID), nil); err != nil {
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
func reindexLoan(tx *bolt.Tx, prev, r LoanRecord) error {
	p, l := prev.Loan, r.Loan
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
		b := tx.Bucket(bucketByStatus)
		if err := b.Delete(statusKey(p.Status, p.Provider, p.ID)); err != nil {
			return err
		}
		if err := b.Put(statusKey(l.Status, l.Provider, l.ID), nil); err != nil {
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
func unindexLoan(tx *bolt.Tx, r LoanRecord) error {
	l := r.Loan
	if err := tx.Bucket(bucketPatrons).Delete(patronKey(l.Provider, l.Patron, l.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketByStatus).Delete(statusKey(l.Status, l.Provider, l.ID)); err != nil {
		return err
	}
	if expiring(r) {
		return tx.Bucket(bucketByExpiry).Delete(expiryKey(*l.ExpiresAt, l.Provider, l.ID))
	}
	return nil
}

// migrateBolt creates the buckets and, for a file of an older layout,
// builds the indexes it lacks from the records.
func migrateBolt(tx *bolt.Tx) error {
	for _, b := range boltBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyLayout); len(v) == 8 && binary.BigEndian.Uint64(v) >= boltLayout {
		return nil
	}
	err := tx.Bucket(bucketLoans).ForEach(func(_, v []byte) error {
		var r LoanRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		return indexLoan(tx, r)
	})
	if err != nil {
		return err
	}
	bySeq := tx.Bucket(bucketDedupeBySeq)
	err = tx.Bucket(bucketDedupe).ForEach(func(k, v []byte) error { return bySeq.Put(v, k) })
	if err != nil {
		return err
	}
	created := tx.Bucket(bucketIdemCreated)
	err = tx.Bucket(bucketIdem).ForEach(func(_, v []byte) error {
		var r IdempotencyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		return created.Put(idemCreatedKey(r), nil)
	})
	if err != nil {
		return err
	}
	return meta.Put(keyLayout, binary.BigEndian.AppendUint64(nil, boltLayout))
}

// prefixKeys returns the suffixes of up to limit keys of b that start with
// prefix (limit <= 0: all), in key order.
func prefixKeys(b *bolt.Bucket, prefix []byte, limit int) []string {
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
