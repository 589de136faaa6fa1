package host

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is the embedded default Store: one bbolt file. Every write is a
// bbolt transaction, synced before it returns, so an acknowledged loan or
// event survives a crash.
type BoltStore struct {
	db *bolt.DB
}

var (
	bucketLoans  = []byte("loans")
	bucketEvents = []byte("events")
	bucketDedupe = []byte("event_dedupe")
	bucketIdem   = []byte("idempotency")
)

// OpenBoltStore opens (or creates) the bbolt file at path. A file that is
// locked, corrupt or unwritable is an error naming the file.
func OpenBoltStore(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLoans, bucketEvents, bucketDedupe, bucketIdem} {
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

func (s *BoltStore) PutLoan(_ context.Context, r LoanRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLoans).Put(loanKey(r.Loan.Provider, r.Loan.ID), b)
	})
}

func (s *BoltStore) Loan(_ context.Context, provider, id string) (LoanRecord, error) {
	var r LoanRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLoans).Get(loanKey(provider, id))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, &r)
	})
	return r, err
}

func (s *BoltStore) PatronLoans(_ context.Context, provider, patron string) ([]LoanRecord, error) {
	out := []LoanRecord{}
	prefix := []byte(provider + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLoans).Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var r LoanRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.Loan.Patron == patron {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

func (s *BoltStore) AppendEvent(_ context.Context, e Event, dedupeKey string) (Event, bool, error) {
	appended := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		dd := tx.Bucket(bucketDedupe)
		if dedupeKey != "" {
			if seq := dd.Get([]byte(dedupeKey)); seq != nil {
				return json.Unmarshal(events.Get(seq), &e)
			}
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
		appended = true
		if dedupeKey != "" {
			return dd.Put([]byte(dedupeKey), key)
		}
		return nil
	})
	return e, appended, err
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

func (s *BoltStore) PutIdempotency(_ context.Context, r IdempotencyRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdem).Put([]byte(r.Scope+"\x00"+r.Key), b)
	})
}

func (s *BoltStore) Idempotency(_ context.Context, scope, key string) (IdempotencyRecord, error) {
	var r IdempotencyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem).Get([]byte(scope + "\x00" + key))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, &r)
	})
	return r, err
}

func (s *BoltStore) Close() error { return s.db.Close() }

var _ Store = (*BoltStore)(nil)

// openStore opens the store that c names.
func openStore(c StoreConfig) (Store, error) {
	switch c.Driver {
	case "", "bolt":
		dsn := c.DSN
		if dsn == "" {
			dsn = "./lendgate.db"
		}
		return OpenBoltStore(dsn)
	case "memory":
		return NewMemoryStore(), nil
	default:
		return nil, fmt.Errorf("unknown store driver %q (bolt, memory)", c.Driver)
	}
}
