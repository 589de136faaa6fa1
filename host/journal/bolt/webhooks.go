package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// bucketWebhooks holds one record per webhook endpoint: endpoint →
// boltWebhook. It is created by the first write, so that files of older
// versions open unchanged; readers treat a missing bucket as empty.
var bucketWebhooks = []byte("webhooks")

type boltWebhook struct {
	State  journal.WebhookState `json:"state"`
	Holder string               `json:"holder,omitempty"`
	Until  time.Time            `json:"until,omitzero"`
}

func getBoltWebhook(tx *bbolt.Tx, endpoint string) (boltWebhook, bool, error) {
	var w boltWebhook
	b := tx.Bucket(bucketWebhooks)
	if b == nil {
		return w, false, nil
	}
	v := b.Get([]byte(endpoint))
	if v == nil {
		return w, false, nil
	}
	return w, true, json.Unmarshal(v, &w)
}

func putBoltWebhook(tx *bbolt.Tx, w boltWebhook) error {
	b, err := tx.CreateBucketIfNotExists(bucketWebhooks)
	if err != nil {
		return err
	}
	v, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return b.Put([]byte(w.State.Endpoint), v)
}

// OpenWebhook journals endpoint at the end of the event log unless it is
// journaled already.
func (s *Store) OpenWebhook(_ context.Context, endpoint string) error {
	err := s.flush() // the end of the event log is then bolt's last event
	if err != nil {
		return fmt.Errorf("bolt store: opening webhook %s: %w", endpoint, err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if _, ok, err := getBoltWebhook(tx, endpoint); ok || err != nil {
			return err
		}
		st := journal.WebhookState{Endpoint: endpoint}
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			st.Cursor = journal.FormatCursor(binary.BigEndian.Uint64(k))
		}
		return putBoltWebhook(tx, boltWebhook{State: st})
	})
	if err != nil {
		return fmt.Errorf("bolt store: opening webhook %s: %w", endpoint, err)
	}
	return nil
}

// LeaseWebhook gives endpoint's lease to holder until until when it is
// free, already holder's, or expired before now.
func (s *Store) LeaseWebhook(_ context.Context, endpoint, holder string, now, until time.Time) (st journal.WebhookState, held bool, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error {
		w, ok, err := getBoltWebhook(tx, endpoint)
		if err != nil {
			return err
		}
		if !ok {
			return journal.ErrNotFound
		}
		if w.Holder != "" && w.Holder != holder && !w.Until.Before(now) {
			return nil
		}
		w.Holder, w.Until = holder, until
		st, held = w.State, true
		return putBoltWebhook(tx, w)
	})
	if err != nil {
		return journal.WebhookState{}, false, fmt.Errorf("bolt store: leasing webhook %s: %w", endpoint, err)
	}
	return st, held, nil
}

// SaveWebhook writes st while holder holds the lease, extending it to until.
func (s *Store) SaveWebhook(_ context.Context, st journal.WebhookState, holder string, until time.Time) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		w, ok, err := getBoltWebhook(tx, st.Endpoint)
		if err != nil {
			return err
		}
		if !ok || w.Holder != holder {
			return journal.ErrWebhookLeaseLost
		}
		w.State, w.Until = st, until
		return putBoltWebhook(tx, w)
	})
	if err != nil {
		return fmt.Errorf("bolt store: saving webhook %s: %w", st.Endpoint, err)
	}
	return nil
}

// ReleaseWebhook frees endpoint's lease if holder holds it.
func (s *Store) ReleaseWebhook(_ context.Context, endpoint, holder string) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		w, ok, err := getBoltWebhook(tx, endpoint)
		if err != nil || !ok || w.Holder != holder {
			return err
		}
		w.Holder, w.Until = "", time.Time{}
		return putBoltWebhook(tx, w)
	})
	if err != nil {
		return fmt.Errorf("bolt store: releasing webhook %s: %w", endpoint, err)
	}
	return nil
}

// WebhookState returns endpoint's journaled state, or journal.ErrNotFound.
func (s *Store) WebhookState(_ context.Context, endpoint string) (journal.WebhookState, error) {
	var st journal.WebhookState
	err := s.db.View(func(tx *bbolt.Tx) error {
		w, ok, err := getBoltWebhook(tx, endpoint)
		if err != nil {
			return err
		}
		if !ok {
			return journal.ErrNotFound
		}
		st = w.State
		return nil
	})
	return st, err
}
