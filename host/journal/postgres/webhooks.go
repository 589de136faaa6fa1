package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lendgate/lendgate/host/journal"
)

// OpenWebhook journals endpoint at the end of the event log unless it is
// journaled already. Nodes starting at once insert one row: the first
// wins, the others change nothing. An event committed between the two
// statements is after the cursor, so it is delivered.
func (s *Store) OpenWebhook(ctx context.Context, endpoint string) error {
	var last int64
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(max(seq), 0) FROM events").Scan(&last); err != nil {
		return fmt.Errorf("postgres store: opening webhook %s: %w", endpoint, err)
	}
	st := journal.WebhookState{Endpoint: endpoint}
	if last > 0 {
		st.Cursor = journal.FormatCursor(uint64(last))
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO webhook_endpoints (endpoint, state) VALUES ($1, $2)
		ON CONFLICT (endpoint) DO NOTHING`, endpoint, json.RawMessage(b))
	if err != nil {
		return fmt.Errorf("postgres store: opening webhook %s: %w", endpoint, err)
	}
	return nil
}

// LeaseWebhook gives endpoint's lease to holder until until when it is
// free, already holder's, or expired before now. The UPDATE is atomic: of
// nodes racing for a free lease, one matches its WHERE, the others re-check
// it after that one commits and match nothing.
func (s *Store) LeaseWebhook(ctx context.Context, endpoint, holder string, now, until time.Time) (journal.WebhookState, bool, error) {
	var st journal.WebhookState
	var b []byte
	err := s.pool.QueryRow(ctx, `UPDATE webhook_endpoints SET holder = $2, lease_until = $4
		WHERE endpoint = $1 AND (holder = $2 OR holder = '' OR lease_until < $3) RETURNING state`,
		endpoint, holder, now, until).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		err = s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE endpoint = $1)", endpoint).Scan(&exists)
		if err == nil && !exists {
			err = journal.ErrNotFound
		}
		if err == nil {
			return st, false, nil
		}
	}
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return journal.WebhookState{}, false, fmt.Errorf("postgres store: leasing webhook %s: %w", endpoint, err)
	}
	return st, true, nil
}

// SaveWebhook writes st while holder holds the lease, extending it to until.
func (s *Store) SaveWebhook(ctx context.Context, st journal.WebhookState, holder string, until time.Time) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_endpoints SET state = $3, lease_until = $4
		WHERE endpoint = $1 AND holder = $2`, st.Endpoint, holder, json.RawMessage(b), until)
	if err == nil && tag.RowsAffected() == 0 {
		err = journal.ErrWebhookLeaseLost
	}
	if err != nil {
		return fmt.Errorf("postgres store: saving webhook %s: %w", st.Endpoint, err)
	}
	return nil
}

// ReleaseWebhook frees endpoint's lease if holder holds it.
func (s *Store) ReleaseWebhook(ctx context.Context, endpoint, holder string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_endpoints SET holder = '', lease_until = '-infinity'
		WHERE endpoint = $1 AND holder = $2`, endpoint, holder)
	if err != nil {
		return fmt.Errorf("postgres store: releasing webhook %s: %w", endpoint, err)
	}
	return nil
}

// WebhookState returns endpoint's journaled state, or journal.ErrNotFound.
func (s *Store) WebhookState(ctx context.Context, endpoint string) (journal.WebhookState, error) {
	var st journal.WebhookState
	var b []byte
	err := s.pool.QueryRow(ctx, "SELECT state FROM webhook_endpoints WHERE endpoint = $1", endpoint).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, journal.ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("postgres store: reading webhook %s: %w", endpoint, err)
	}
	return st, json.Unmarshal(b, &st)
}
