package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lendgate/lendgate/host/journal"
)

// The event log on PostgreSQL, without a lock across any commit.
//
// An Apply is one statement (one round trip, its own transaction): the
// dedupe check, the loan's compare-and-set write, and the event's insert,
// which draws its number from the events sequence. Concurrent Applies commit in parallel, so
// PostgreSQL's group commit flushes the WAL once for all of them; but they
// may commit out of number order, and a number may never be used (its
// transaction failed). A reader paging with "after" must still never skip
// an event that commits later with a lower number than one it returned.
//
// So a reader never steps over a gap. When it finds numbers missing below
// an event it is about to return, it settles them: it inserts a tombstone
// (a row without an event) at each missing number, ON CONFLICT DO NOTHING.
// The primary key makes that insert wait for a transaction still writing
// that number: if the transaction commits, the tombstone is not written
// and the reader reads the event; if it failed, or the number was drawn but
// not inserted yet, the tombstone takes the number for good, and a writer
// that then tries to insert it fails on the primary key and applies again
// with a new number. Either way the number is settled before the reader
// moves past it. Gaps are rare when nobody is writing and short (at most
// the writers in flight) when many are, and only readers ever wait.
// Numbers below events_horizon.below were purged (retention) and are not
// gaps.

// pgApplyRetries bounds the Applies that lost their number to a reader's
// tombstone (each retry draws a new one).
const pgApplyRetries = 10

// pgApplySQL writes the loan if its row is at version $9 (as pgPutLoanSQL
// does) and inserts the event, unless the dedupe key was applied before.
// It returns one row: ("new", seq) for an applied event, ("dup", seq,
// event) for a key applied before, or none when the loan's compare failed.
// The event is inserted only with the loan's write, and the loan written
// only with the event: an Apply of the same key committed during this one
// makes the insert fail on the key's unique constraint, which undoes the
// whole statement (pgDedupeKeyConflict).
const pgApplySQL = `WITH dup AS (
	SELECT seq, event FROM events WHERE $7::text <> '' AND dedupe_key = $7::text
), upd AS (
	UPDATE loans SET patron = $3, status = $4, expires_at = $5, record = $8
	WHERE provider = $1 AND id = $2 AND $9::bigint <> 0 AND ` + pgVersion + ` = $9::bigint
		AND NOT EXISTS (SELECT 1 FROM dup)
	RETURNING 1
), crt AS (
	INSERT INTO loans (provider, id, patron, status, expires_at, record)
	SELECT $1::text, $2::text, $3::text, $4::text, $5::timestamptz, $8::jsonb
	WHERE $9::bigint = 0 AND NOT EXISTS (SELECT 1 FROM dup)
	ON CONFLICT (provider, id) DO NOTHING
	RETURNING 1
), ins AS (
	INSERT INTO events (event, dedupe_key)
	SELECT $6::jsonb, NULLIF($7::text, '') FROM (SELECT 1 FROM upd UNION ALL SELECT 1 FROM crt) w
	RETURNING seq
)
SELECT true, seq, NULL::jsonb FROM ins
UNION ALL
SELECT false, seq, event FROM dup`

func (s *Store) Apply(ctx context.Context, r journal.Loan, e journal.Event, dedupeKey string) (journal.Event, bool, error) {
	fail := func(err error) (journal.Event, bool, error) {
		return journal.Event{}, false, fmt.Errorf("postgres store: applying %s event to loan %s/%s: %w", e.Type, r.Provider, r.ID, err)
	}
	want := r.Version
	r.Version++
	rec, err := json.Marshal(r)
	if err != nil {
		return fail(err)
	}
	// The event is stored without its id and cursor: they are its number,
	// known only once inserted, and filled in when read.
	stored := e
	stored.ID, stored.Cursor = "", ""
	ev, err := json.Marshal(stored)
	if err != nil {
		return fail(err)
	}
	for range pgApplyRetries {
		var isNew bool
		var seq int64
		var prev []byte
		err := s.pool.QueryRow(ctx, pgApplySQL, r.Provider, r.ID, r.Patron, r.Status, r.ExpiresAt,
			json.RawMessage(ev), dedupeKey, json.RawMessage(rec), want).Scan(&isNew, &seq, &prev)
		switch {
		case err == nil && isNew:
			out := e
			out.Cursor = journal.FormatCursor(uint64(seq))
			out.ID = "ev_" + out.Cursor
			return out, true, nil
		case err == nil:
			out, err := pgEvent(seq, prev)
			if err != nil {
				return fail(err)
			}
			return out, false, nil
		case errors.Is(err, pgx.ErrNoRows), pgDedupeKeyConflict(err):
			// The loan's compare failed, or the same key was applied by
			// another Apply that committed after this statement's
			// snapshot was taken: the key, if applied, answers first.
			if dedupeKey != "" {
				out, found, derr := s.dedupedEvent(ctx, dedupeKey)
				if derr != nil {
					return fail(derr)
				}
				if found {
					return out, false, nil
				}
			}
			if pgDedupeKeyConflict(err) {
				return fail(fmt.Errorf("dedupe key %q conflicted but holds no event", dedupeKey))
			}
			return fail(fmt.Errorf("not at version %d: %w", want, journal.ErrConflict))
		case pgPrimaryKeyConflict(err):
			continue // a reader settled this number as a gap: draw another
		default:
			return fail(err)
		}
	}
	return fail(errors.New("lost its event number to readers ten times over"))
}

// pgDedupeKeyConflict says whether err is a unique violation of the events
// table's dedupe key (another Apply of the key committed first).
func pgDedupeKeyConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "events_dedupe_key_key"
}

// pgPrimaryKeyConflict says whether err is a unique violation of the
// events table's primary key (a number a reader has tombstoned).
func pgPrimaryKeyConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "events_pkey"
}

// pgEvent decodes a stored event and gives it its id and cursor.
func pgEvent(seq int64, b []byte) (journal.Event, error) {
	var e journal.Event
	if err := json.Unmarshal(b, &e); err != nil {
		return e, err
	}
	e.Cursor = journal.FormatCursor(uint64(seq))
	e.ID = "ev_" + e.Cursor
	return e, nil
}

// dedupedEvent returns the event applied with dedupeKey, if any.
func (s *Store) dedupedEvent(ctx context.Context, dedupeKey string) (journal.Event, bool, error) {
	var seq int64
	var b []byte
	err := s.pool.QueryRow(ctx, "SELECT seq, event FROM events WHERE dedupe_key = $1", dedupeKey).Scan(&seq, &b)
	if errors.Is(err, pgx.ErrNoRows) {
		return journal.Event{}, false, nil
	}
	if err != nil {
		return journal.Event{}, false, err
	}
	e, err := pgEvent(seq, b)
	return e, true, err
}

// pgEventsSQL reads the rows (events and tombstones) from a number on,
// and the retention horizon.
const pgEventsSQL = `SELECT h.below, e.seq, e.event FROM events_horizon h
	LEFT JOIN LATERAL (SELECT seq, event FROM events WHERE seq >= GREATEST($1, h.below) ORDER BY seq LIMIT $2) e ON true`

// pgSettleSQL tombstones the missing numbers of [$1, $2], waiting for
// the transactions still writing any of them, and returns how many it
// tombstoned.
const pgSettleSQL = `WITH t AS (
	INSERT INTO events (seq) SELECT generate_series($1::bigint, $2::bigint)
	ON CONFLICT (seq) DO NOTHING RETURNING 1
) SELECT count(*) FROM t`

func (s *Store) Events(ctx context.Context, after string, limit int) ([]journal.Event, error) {
	from, err := journal.ParseCursor(after)
	if err != nil {
		return nil, err
	}
	out := []journal.Event{}
	if limit <= 0 || from >= math.MaxInt64 {
		return out, nil
	}
	fail := func(err error) ([]journal.Event, error) {
		return nil, fmt.Errorf("postgres store: reading events after %q: %w", after, err)
	}
	next := int64(from) + 1 // the first number not settled yet
	for len(out) < limit {
		want := limit - len(out)
		rows, _ := s.pool.Query(ctx, pgEventsSQL, next, want)
		type row struct {
			below int64
			seq   *int64
			event []byte
		}
		rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.below, &x.seq, &x.event)
		})
		if err != nil {
			return fail(err)
		}
		if len(rs) == 0 {
			return fail(errors.New("the events horizon row is missing"))
		}
		next = max(next, rs[0].below)
		if rs[0].seq == nil {
			return out, nil // nothing from next on
		}
		resettle := false
		for _, x := range rs {
			if *x.seq > next {
				// A gap below an event: settle it before stepping over.
				var tombstoned int64
				if err := s.pool.QueryRow(ctx, pgSettleSQL, next, *x.seq-1).Scan(&tombstoned); err != nil {
					return fail(err)
				}
				if tombstoned < *x.seq-next {
					resettle = true // some were events that committed meanwhile: read again
					break
				}
			}
			next = *x.seq + 1
			if x.event != nil {
				e, err := pgEvent(*x.seq, x.event)
				if err != nil {
					return fail(err)
				}
				out = append(out, e)
			}
		}
		if !resettle && len(rs) < want {
			return out, nil
		}
	}
	return out, nil
}

// pgPurgeChunk bounds the numbers one purge transaction deletes.
const pgPurgeChunk = 5000

// PurgeEvents deletes the events appended before t, oldest first, up to
// the first that is not older, and moves the horizon past them, a chunk of
// numbers per transaction.
func (s *Store) PurgeEvents(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		n, more, err := s.purgeEventsChunk(ctx, t)
		total += n
		if err != nil {
			return total, fmt.Errorf("postgres store: purging events: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// purgeEventsChunk purges up to pgPurgeChunk numbers from the horizon on;
// more says whether it stopped at the chunk's end rather than at t.
func (s *Store) purgeEventsChunk(ctx context.Context, t time.Time) (n int, more bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, more = 0, false
		var below int64
		if err := tx.QueryRow(ctx, "SELECT below FROM events_horizon FOR UPDATE").Scan(&below); err != nil {
			return err
		}
		// The first event not older than t (tombstones do not count),
		// reading from the horizon on: only the purged rows are read.
		var end *int64
		err := tx.QueryRow(ctx, `SELECT min(seq) FROM (SELECT seq FROM events WHERE seq >= $1 AND event IS NOT NULL
			AND (event->>'at')::timestamptz >= $2 ORDER BY seq LIMIT 1) x`, below, t).Scan(&end)
		if err != nil {
			return err
		}
		if end == nil {
			// Every event is older: purge up to the last one.
			if err := tx.QueryRow(ctx, "SELECT max(seq) + 1 FROM events WHERE seq >= $1", below).Scan(&end); err != nil {
				return err
			}
			if end == nil {
				return nil
			}
		}
		stop := *end
		if stop > below+pgPurgeChunk {
			stop, more = below+pgPurgeChunk, true
		}
		tag, err := tx.Exec(ctx, "DELETE FROM events WHERE seq >= $1 AND seq < $2 AND event IS NOT NULL", below, stop)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, "DELETE FROM events WHERE seq >= $1 AND seq < $2", below, stop); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE events_horizon SET below = $1", stop)
		return err
	})
	return n, more, err
}
