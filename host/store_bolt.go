package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is the embedded default Store: one bbolt file. Every write is a
// bbolt transaction, synced before it returns, so an acknowledged loan or
// event survives a crash. One process opens the file at a time (bbolt's
// file lock); several nodes need the postgres driver.
type BoltStore struct {
	db *bolt.DB
}

var (
	bucketLoans   = []byte("loans")        // provider\x00id → LoanRecord
	bucketPatrons = []byte("patron_loans") // provider\x00patron\x00id → nil
	bucketEvents  = []byte("events")       // big-endian seq → Event
	bucketDedupe  = []byte("event_dedupe") // dedupe key → seq
	bucketIdem    = []byte("idempotency")  // scope\x00key → IdempotencyRecord
)

// OpenBoltStore opens (or creates) the bbolt file at path. A file that is
// locked, corrupt or unwritable is an error naming the file.
func OpenBoltStore(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLoans, bucketPatrons, bucketEvents, bucketDedupe, bucketIdem} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising bolt store %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

func loanKey(provider, id string) []byte { return []byte(provider + "\x00" + id) }

func patronKey(provider, patron, id string) []byte {
	return []byte(provider + "\x00" + patron + "\x00" + id)
}

func putLoan(tx *bolt.Tx, r LoanRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if prev, err := getLoan(tx, r.Loan.Provider, r.Loan.ID); err == nil && prev.Loan.Patron != r.Loan.Patron {
		if err := tx.Bucket(bucketPatrons).Delete(patronKey(r.Loan.Provider, prev.Loan.Patron, r.Loan.ID)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketLoans).Put(loanKey(r.Loan.Provider, r.Loan.ID), b); err != nil {
		return err
	}
	return tx.Bucket(bucketPatrons).Put(patronKey(r.Loan.Provider, r.Loan.Patron, r.Loan.ID), nil)
}

func (s *BoltStore) PutLoan(_ context.Context, r LoanRecord) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putLoan(tx, r) })
}

func (s *BoltStore) DeleteLoan(_ context.Context, provider, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLoans).Get(loanKey(provider, id))
		if b == nil {
			return nil
		}
		var r LoanRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPatrons).Delete(patronKey(provider, r.Loan.Patron, id)); err != nil {
			return err
		}
		return tx.Bucket(bucketLoans).Delete(loanKey(provider, id))
	})
}

func getLoan(tx *bolt.Tx, provider, id string) (LoanRecord, error) {
	var r LoanRecord
	b := tx.Bucket(bucketLoans).Get(loanKey(provider, id))
	if b == nil {
		return r, ErrNotFound
	}
	return r, json.Unmarshal(b, &r)
}

func (s *BoltStore) Loan(_ context.Context, provider, id string) (r LoanRecord, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		r, err = getLoan(tx, provider, id)
		return err
	})
	return r, err
}

func (s *BoltStore) PatronLoans(_ context.Context, provider, patron string) ([]LoanRecord, error) {
	out := []LoanRecord{}
	prefix := []byte(provider + "\x00" + patron + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPatrons).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			r, err := getLoan(tx, provider, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// scan returns the loans (of a provider, when given) that keep selects, in
// id order, at most limit. The status and expiry queries are scans: fine for
// one library's journal; a consortium belongs on postgres.
func (s *BoltStore) scan(provider string, limit int, keep func(LoanRecord) bool) ([]LoanRecord, error) {
	out, err := s.scanAll(provider, keep)
	if err != nil {
		return nil, err
	}
	// Keys sort by provider first: across providers, order by id.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Loan.ID < out[j].Loan.ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *BoltStore) scanAll(provider string, keep func(LoanRecord) bool) ([]LoanRecord, error) {
	out := []LoanRecord{}
	var prefix []byte
	if provider != "" {
		prefix = []byte(provider + "\x00")
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLoans).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r LoanRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if keep(r) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

func (s *BoltStore) LoansByStatus(_ context.Context, provider, status string, limit int) ([]LoanRecord, error) {
	return s.scan(provider, limit, func(r LoanRecord) bool { return r.Loan.Status == status })
}

func (s *BoltStore) ExpiredLoans(_ context.Context, t time.Time, limit int) ([]LoanRecord, error) {
	return s.scan("", limit, func(r LoanRecord) bool {
		return r.Loan.Status == StatusActive && r.Loan.ExpiresAt != nil && r.Loan.ExpiresAt.Before(t)
	})
}

func (s *BoltStore) Apply(_ context.Context, r LoanRecord, e Event, dedupeKey string) (Event, bool, error) {
	applied := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		dd := tx.Bucket(bucketDedupe)
		if dedupeKey != "" {
			if seq := dd.Get([]byte(dedupeKey)); seq != nil {
				return json.Unmarshal(events.Get(seq), &e)
			}
		}
		if err := putLoan(tx, r); err != nil {
			return err
		}
		n, err := events.NextSequence()
		if err != nil {
			return err
		}
		e.Cursor = formatCursor(n)
		e.ID = "ev_" + e.Cursor
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, n)
		if err := events.Put(key, b); err != nil {
			return err
		}
		applied = true
		if dedupeKey != "" {
			return dd.Put([]byte(dedupeKey), key)
		}
		return nil
	})
	return e, applied, err
}

func (s *BoltStore) Events(_ context.Context, after string, limit int) ([]Event, error) {
	from, err := parseCursor(after)
	if err != nil {
		return nil, err
	}
	out := []Event{}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, from+1)); k != nil && len(out) < limit; k, v = c.Next() {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func (s *BoltStore) ClaimIdempotency(_ context.Context, r IdempotencyRecord, staleBefore time.Time) (out IdempotencyRecord, claimed bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		k := []byte(idemKey(r.Scope, r.Key))
		if v := b.Get(k); v != nil {
			if err := json.Unmarshal(v, &out); err != nil {
				return err
			}
			if out.Status != 0 || !out.UpdatedAt.Before(staleBefore) {
				return nil
			}
			out.UpdatedAt = r.UpdatedAt
		} else {
			out = r
		}
		claimed = true
		v, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return b.Put(k, v)
	})
	return out, claimed, err
}

func (s *BoltStore) CompleteIdempotency(_ context.Context, r IdempotencyRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdem).Put([]byte(idemKey(r.Scope, r.Key)), v)
	})
}

func (s *BoltStore) RefreshIdempotency(_ context.Context, scope, key string, at time.Time) (bool, error) {
	refreshed := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		k := []byte(idemKey(scope, key))
		v := b.Get(k)
		if v == nil {
			return nil
		}
		var r IdempotencyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.Status != 0 {
			return nil
		}
		r.UpdatedAt = at
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		refreshed = true
		return b.Put(k, v)
	})
	return refreshed && err == nil, err
}

func (s *BoltStore) ReleaseIdempotency(_ context.Context, scope, key string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		k := []byte(idemKey(scope, key))
		v := b.Get(k)
		if v == nil {
			return nil
		}
		var r IdempotencyRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.Status != 0 {
			return nil
		}
		return b.Delete(k)
	})
}

func (s *BoltStore) Idempotency(_ context.Context, scope, key string) (IdempotencyRecord, error) {
	var r IdempotencyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem).Get([]byte(idemKey(scope, key)))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, &r)
	})
	return r, err
}

func (s *BoltStore) PurgeIdempotency(_ context.Context, t time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var r IdempotencyRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.CreatedAt.Before(t) && (r.Status != 0 || r.UpdatedAt.Before(t)) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

func (s *BoltStore) Close() error { return s.db.Close() }

var _ Store = (*BoltStore)(nil)
