package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// Store is the embedded default journal.Store: one bbolt file, and a
// write-ahead log beside it (wal.go) that takes every write of a loan or an
// event until a checkpoint commits them into bolt (overlay.go). Concurrent
// writes share their syncs (the log's, and the committer's for the writes
// that go to bolt itself, commit.go), and each returns only once it is on
// disk, so an acknowledged loan or event survives a crash. Every query is
// a range scan of an index (index.go). One process opens the file
// at a time (bbolt's file lock); several nodes need the postgres driver.
type Store struct {
	db  *bbolt.DB
	c   *committer
	log *walLog // the loans and events not in bolt yet (wal.go, overlay.go)
	// ckptDone is closed when the checkpointer has stopped.
	ckptDone  chan struct{}
	ckptEvery time.Duration
	// afterCommit, when set (tests), is called by the checkpointer with
	// each pass it committed, before the pass's half is cleaned.
	afterCommit func(pass uint64)
}

// update runs fn in a group-committed write transaction (see
// committer.update: fn may run more than once).
func (s *Store) update(fn func(*bbolt.Tx) error) error { return s.c.update(fn) }

// appendFill is how full bbolt fills the pages it splits in the buckets
// whose keys mostly grow (loan ids are ULIDs, event numbers count up):
// bbolt's default, half, would leave the file half empty.
const appendFill = 0.9

// putLoanJSON writes the loan r, encoded as b, and moves its index entries
// (only those that change). The record was encoded when it was logged, so
// the checkpoint's transaction spends its time on the B-trees only.
func putLoanJSON(tx *bbolt.Tx, r journal.Loan, b []byte) error {
	k := loanKey(r.Provider, r.ID)
	prev, err := getLoanIndexed(tx, r.Provider, r.ID)
	switch {
	case err == nil:
		if err := reindexLoan(tx, prev, r); err != nil {
			return err
		}
		if (prev.Status == statusPending) != (r.Status == statusPending) {
			if err := loanBucket(tx, prev.Status).Delete(k); err != nil {
				return err
			}
		}
	case err == journal.ErrNotFound:
		if err := indexLoan(tx, r); err != nil {
			return err
		}
	default:
		return err
	}
	return loanBucket(tx, r.Status).Put(k, b)
}

// loanBucket is the bucket that keeps the records of loans in status:
// loans_pending for pending ones (its keys are their entries in the status
// index, see index.go), loans for the others.
func loanBucket(tx *bbolt.Tx, status string) *bbolt.Bucket {
	if status == statusPending {
		return tx.Bucket(bucketPending)
	}
	b := tx.Bucket(bucketLoans)
	b.FillPercent = appendFill
	return b
}

// loanJSON is the stored record of a loan, wherever it is kept (nil: none).
func loanJSON(tx *bbolt.Tx, provider, id string) []byte {
	k := loanKey(provider, id)
	if b := tx.Bucket(bucketLoans).Get(k); b != nil {
		return b
	}
	return tx.Bucket(bucketPending).Get(k)
}

func (s *Store) PutLoan(_ context.Context, r journal.Loan) error {
	x := s.expect(r.Provider, r.ID, r.Version, false)
	r.Version++
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.logWrite(walRecord{op: opPut, key: x.key, loan: b}, versioned(r), x)
}

func (s *Store) DeleteLoan(_ context.Context, provider, id string, version int64) error {
	x := s.expect(provider, id, version, true)
	return s.logWrite(walRecord{op: opDelete, key: x.key}, journal.Loan{}, x)
}

// deleteLoanTx removes a loan's record and index entries, if bolt has it.
func deleteLoanTx(tx *bbolt.Tx, provider, id string) error {
	r, err := getLoanIndexed(tx, provider, id)
	if err == journal.ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if err := unindexLoan(tx, r); err != nil {
		return err
	}
	return loanBucket(tx, r.Status).Delete(loanKey(provider, id))
}

// boltIndexed is the part of a stored loan its index entries derive from:
// decoding only these members (no links, options or provider reference)
// keeps the committer's read of the previous record short. A record of
// schema 1 has them nested under "loan".
type boltIndexed struct {
	indexedMembers
	V1 *indexedMembers `json:"loan"`
}

type indexedMembers struct {
	ID        string     `json:"id"`
	Provider  string     `json:"provider"`
	Patron    string     `json:"patron"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expires_at"`
	// Version is not indexed: the compare of a loan write reads it.
	Version int64 `json:"version"`
}

// getLoanIndexed reads the members of a loan that place it in the indexes,
// and its version.
func getLoanIndexed(tx *bbolt.Tx, provider, id string) (journal.Loan, error) {
	b := loanJSON(tx, provider, id)
	if b == nil {
		return journal.Loan{}, journal.ErrNotFound
	}
	return decodeIndexed(b)
}

// decodeIndexed decodes the members of a loan record b that place it in
// the indexes.
func decodeIndexed(b []byte) (journal.Loan, error) {
	var x boltIndexed
	if err := json.Unmarshal(b, &x); err != nil {
		return journal.Loan{}, err
	}
	l := x.indexedMembers
	if x.V1 != nil {
		l = *x.V1
	}
	return journal.Loan{ID: l.ID, Provider: l.Provider, Patron: l.Patron, Status: l.Status, ExpiresAt: l.ExpiresAt,
		Version: journal.StoredVersion(l.Version)}, nil
}

func getLoan(tx *bbolt.Tx, provider, id string) (journal.Loan, error) {
	var r journal.Loan
	b := loanJSON(tx, provider, id)
	if b == nil {
		return r, journal.ErrNotFound
	}
	return r, json.Unmarshal(b, &r)
}

func (s *Store) Loan(_ context.Context, provider, id string) (r journal.Loan, err error) {
	e, ok, err := s.overLoanOf(string(loanKey(provider, id)))
	switch {
	case err != nil:
		return r, err
	case ok && e.json == nil:
		return r, journal.ErrNotFound
	case ok:
		return r, json.Unmarshal(e.json, &r)
	}
	// Not in the log: bolt's record is the latest (a write of it since
	// then is newer, and may be read as well).
	err = s.db.View(func(tx *bbolt.Tx) error {
		r, err = getLoan(tx, provider, id)
		return err
	})
	return r, err
}

// boltRef is a loan's key in an index.
type boltRef struct{ provider, id string }

// getLoans reads the records of refs, in order.
func getLoans(live *ctxCheck, tx *bbolt.Tx, refs []boltRef) ([]journal.Loan, error) {
	out := make([]journal.Loan, 0, len(refs))
	for _, ref := range refs {
		if live.done() {
			return nil, live.ctx.Err()
		}
		r, err := getLoan(tx, ref.provider, ref.id)
		if err != nil {
			return nil, fmt.Errorf("loan %s/%s of an index: %w", ref.provider, ref.id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Store) PatronLoans(ctx context.Context, provider, patron string) ([]journal.Loan, error) {
	pk := provider + "\x00" + patron
	return s.mergedLoans(ctx,
		func(tx *bbolt.Tx, skip func(provider, id string) bool, _ *ctxCheck) []boltRef {
			var refs []boltRef
			for _, id := range prefixKeys(tx.Bucket(bucketPatrons), patronKey(provider, patron, ""), 0) {
				if !skip(provider, id) {
					refs = append(refs, boltRef{provider, id})
				}
			}
			return refs
		},
		func(o *overlay) []string { return slices.Collect(maps.Keys(o.byPatron[pk])) },
		func(r journal.Loan) bool { return r.Provider == provider && r.Patron == patron },
		func(out []journal.Loan) []journal.Loan { return sortByID(out) })
}

// mergedLoans is a read of loans from bolt and the log's overlays as of
// one instant, which stops when ctx ends (refs's loops ask live). Under the log's lock it begins a bolt transaction, scans
// an index with refs (skip says which loans the overlays hold: their
// state there stands) and takes the overlays' loans that keep (from the
// keys of each pass that overKeys gives, nil: all); it then reads bolt's
// records, merges the two with finish, and waits until the log is synced
// past the overlays' loans it returns.
func (s *Store) mergedLoans(ctx context.Context, refs func(tx *bbolt.Tx, skip func(provider, id string) bool, live *ctxCheck) []boltRef,
	overKeys func(*overlay) []string, keep func(journal.Loan) bool,
	finish func([]journal.Loan) []journal.Loan) ([]journal.Loan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	live := &ctxCheck{ctx: ctx}
	l := s.log
	l.mu.Lock()
	tx, err := s.db.Begin(false)
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	// The transaction ends before the wait for the log's sync: a bolt
	// commit growing the file waits for every reader.
	defer tx.Rollback()
	held := refs(tx, func(provider, id string) bool {
		_, ok := l.loanLocked(string(loanKey(provider, id)))
		return ok
	}, live)
	over := l.loansLocked(overKeys, keep)
	l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := getLoans(live, tx, held)
	_ = tx.Rollback()
	if err != nil {
		return nil, err
	}
	logged, end, err := decodeLoans(over)
	if err != nil {
		return nil, err
	}
	out = finish(append(out, logged...))
	return out, l.syncTo(end)
}

// sortByID sorts loans by id, then provider: the order of the indexes.
func sortByID(out []journal.Loan) []journal.Loan {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Provider < out[j].Provider
	})
	return out
}

// LoansByStatus reads the status index: one provider's loans are one range
// of it, in id order; for every provider, each provider's first limit are
// merged by id.
func (s *Store) LoansByStatus(ctx context.Context, provider, status string, limit int) ([]journal.Loan, error) {
	return s.mergedLoans(ctx,
		func(tx *bbolt.Tx, skip func(provider, id string) bool, live *ctxCheck) []boltRef {
			b, prefix := statusRange(tx, status)
			var refs []boltRef
			providers := []string{provider}
			if provider == "" {
				providers = statusProviders(b, prefix)
			}
			for _, p := range providers {
				// The overlays' loans are skipped: limit are read past them.
				pre := append(append([]byte{}, prefix...), p+"\x00"...)
				c, n := b.Cursor(), 0
				for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre) && (limit <= 0 || n < limit) && !live.done(); k, _ = c.Next() {
					if id := string(k[len(pre):]); !skip(p, id) {
						refs = append(refs, boltRef{p, id})
						n++
					}
				}
			}
			sort.SliceStable(refs, func(i, j int) bool {
				if refs[i].id != refs[j].id {
					return refs[i].id < refs[j].id
				}
				return refs[i].provider < refs[j].provider
			})
			if limit > 0 && len(refs) > limit {
				refs = refs[:limit]
			}
			return refs
		},
		nil,
		func(r journal.Loan) bool { return (provider == "" || r.Provider == provider) && r.Status == status },
		func(out []journal.Loan) []journal.Loan {
			out = sortByID(out)
			if limit > 0 && len(out) > limit {
				out = out[:limit]
			}
			return out
		})
}

// statusProviders lists the providers having loans in a status's range
// (statusRange), skipping from one provider's range to the next.
func statusProviders(b *bbolt.Bucket, prefix []byte) []string {
	var out []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
		p, _, _ := strings.Cut(string(k[len(prefix):]), "\x00")
		out = append(out, p)
		k, _ = c.Seek(append(append(append([]byte{}, prefix...), p...), 1)) // past provider\0…
	}
	return out
}

// ExpiredLoans reads the expiry index from its start up to t, and the
// overlays' active loans expired by then.
func (s *Store) ExpiredLoans(ctx context.Context, t time.Time, limit int) ([]journal.Loan, error) {
	end := timeKey(t)
	return s.mergedLoans(ctx,
		func(tx *bbolt.Tx, skip func(provider, id string) bool, live *ctxCheck) []boltRef {
			var refs []boltRef
			c := tx.Bucket(bucketByExpiry).Cursor()
			for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) < 0 && !live.done(); k, _ = c.Next() {
				if limit > 0 && len(refs) >= limit {
					break
				}
				if p, id, _ := strings.Cut(string(k[8:]), "\x00"); !skip(p, id) {
					refs = append(refs, boltRef{p, id})
				}
			}
			return refs
		},
		nil,
		func(r journal.Loan) bool { return expiring(r) && r.ExpiresAt.Before(t) },
		func(out []journal.Loan) []journal.Loan {
			// In the index's order: by expiry, then key.
			sort.SliceStable(out, func(i, j int) bool {
				return bytes.Compare(expiryKey(*out[i].ExpiresAt, out[i].Provider, out[i].ID),
					expiryKey(*out[j].ExpiresAt, out[j].Provider, out[j].ID)) < 0
			})
			if limit > 0 && len(out) > limit {
				out = out[:limit]
			}
			return out
		})
}

func (s *Store) Apply(_ context.Context, r journal.Loan, e journal.Event, dedupeKey string) (journal.Event, bool, error) {
	x := s.expect(r.Provider, r.ID, r.Version, false)
	r.Version++
	// Both records are encoded before the log is locked; the event's
	// number, drawn under the lock, is spliced in there.
	rb, err := json.Marshal(r)
	if err != nil {
		return journal.Event{}, false, err
	}
	eb, err := encodeBoltEvent(e)
	if err != nil {
		return journal.Event{}, false, err
	}
	var dk []byte // the dedupe key as a JSON string, kept in the event's record
	var prev []byte
	var gen uint64
	l := s.log
	if dedupeKey != "" {
		if dk, err = json.Marshal(dedupeKey); err != nil {
			return journal.Event{}, false, err
		}
		// bolt's answer, read before the lock: it holds unless a pass
		// was committed and dropped from memory meanwhile.
		gen = l.gen.Load()
		if prev, err = s.boltDeduped(dedupeKey); err != nil {
			return journal.Event{}, false, err
		}
	}
	l.mu.Lock()
	var ev journal.Event
	var written uint64
	for {
		// Again after a wait for room: the lock was released.
		if dedupeKey != "" {
			if ev, ok := l.eventLocked(dedupeKey); ok {
				l.mu.Unlock()
				return s.deduped(ev.json, ev.end)
			}
			if now := l.gen.Load(); gen != now {
				gen = now
				if prev, err = s.boltDeduped(dedupeKey); err != nil {
					break
				}
			}
			if prev != nil {
				l.mu.Unlock()
				return s.deduped(prev, 0)
			}
		}
		ev = e
		ev.Cursor = journal.FormatCursor(l.nextSeq)
		ev.ID = "ev_" + ev.Cursor
		rec := walRecord{op: opApply, key: x.key, loan: rb,
			seq: l.nextSeq, dedupe: dedupeKey, event: eb.numbered(ev.ID, ev.Cursor, dk)}
		var fit, tooLarge bool
		if fit, tooLarge, err = s.roomLocked(rec.size()); err != nil {
			break
		}
		// The key is not used: the loan's compare, in the same hold of
		// the lock as the append. A conflict appends nothing.
		if _, err = x.checkLocked(); err != nil {
			break
		}
		if tooLarge {
			l.nextSeq++
			err = s.commitLocked(rec, versioned(r))
			break
		}
		if fit {
			written = l.write(rec)
			l.nextSeq++
			l.over.add(rec, versioned(r), written)
			break
		}
	}
	l.mu.Unlock()
	if err == nil {
		err = l.syncTo(written)
	}
	if err != nil {
		return journal.Event{}, false, err
	}
	return ev, true, nil
}

// deduped answers an Apply whose dedupe key was applied before with that
// event (stored as b), once the log is synced past it.
func (s *Store) deduped(b []byte, end uint64) (journal.Event, bool, error) {
	var out journal.Event
	if err := s.log.syncTo(end); err != nil {
		return out, false, err
	}
	return out, false, json.Unmarshal(b, &out)
}

// Events reads bolt's events after the cursor, then the overlays': every
// event they hold comes after bolt's last (or is bolt's too, for a frozen
// pass just committed: it is taken once). It stops when ctx ends.
func (s *Store) Events(ctx context.Context, after string, limit int) ([]journal.Event, error) {
	from, err := journal.ParseCursor(after)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt store: reading events: %w", err)
	}
	live := &ctxCheck{ctx: ctx}
	out := []journal.Event{}
	if from == ^uint64(0) {
		return out, nil // nothing comes after it
	}
	l := s.log
	l.mu.Lock()
	var passes [][]overEvent // appended to only: their first len stay as they are
	if l.frozen != nil {
		passes = append(passes, l.frozen.events)
	}
	passes = append(passes, l.over.events)
	tx, err := s.db.Begin(false)
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.Seek(seqKey(from + 1)); k != nil && len(out) < limit; k, v = c.Next() {
		if live.done() {
			_ = tx.Rollback()
			return nil, fmt.Errorf("bolt store: reading events: %w", ctx.Err())
		}
		var e journal.Event
		if err := json.Unmarshal(v, &e); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
		out = append(out, e)
		from = binary.BigEndian.Uint64(k)
	}
	// Ended before the wait for the log's sync (see mergedLoans).
	_ = tx.Rollback()
	var end uint64
	for _, events := range passes {
		i := sort.Search(len(events), func(i int) bool { return events[i].seq > from })
		for ; i < len(events) && len(out) < limit; i++ {
			if live.done() {
				return nil, fmt.Errorf("bolt store: reading events: %w", ctx.Err())
			}
			var e journal.Event
			if err := json.Unmarshal(events[i].json, &e); err != nil {
				return nil, err
			}
			out = append(out, e)
			end = events[i].end
		}
	}
	return out, l.syncTo(end)
}

// purgeChunk bounds the deletions of one transaction, so that a purge
// never holds the writer long.
const purgeChunk = 2000

// PurgeEvents deletes the events (and their dedupe keys) appended before
// t, oldest first, stopping at the first that is not older than t.
func (s *Store) PurgeEvents(ctx context.Context, t time.Time) (int, error) {
	if err := s.flush(); err != nil { // the log's events are bolt's to purge
		return 0, err
	}
	total := 0
	for ctx.Err() == nil {
		n := 0
		err := s.update(func(tx *bbolt.Tx) error {
			events, bySeq, dd := tx.Bucket(bucketEvents), tx.Bucket(bucketDedupeBySeq), tx.Bucket(bucketDedupe)
			var drop [][]byte
			var keys []string // the dedupe keys the dropped events keep
			c := events.Cursor()
			for k, v := c.First(); k != nil && len(drop) < purgeChunk; k, v = c.Next() {
				var e storedEventMeta
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				if !e.At.Before(t) {
					break
				}
				drop = append(drop, append([]byte{}, k...))
				if e.Dedupe != nil {
					keys = append(keys, *e.Dedupe)
				}
			}
			for _, key := range keys {
				if err := dd.Delete([]byte(key)); err != nil {
					return err
				}
			}
			for _, k := range drop {
				// An event of layout 2 has its key in event_dedupe_keys.
				if key := bySeq.Get(k); key != nil {
					if err := dd.Delete(key); err != nil {
						return err
					}
					if err := bySeq.Delete(k); err != nil {
						return err
					}
				}
				if err := events.Delete(k); err != nil {
					return err
				}
			}
			n = len(drop)
			return nil
		})
		total += n
		if err != nil || n < purgeChunk {
			return total, err
		}
	}
	return total, ctx.Err()
}

func (s *Store) ClaimIdempotency(_ context.Context, r journal.IdempotencyRecord, staleBefore time.Time) (out journal.IdempotencyRecord, claimed bool, err error) {
	err = s.update(func(tx *bbolt.Tx) error {
		out, claimed = journal.IdempotencyRecord{}, false
		b := tx.Bucket(bucketIdem)
		k := []byte(idemKey(r.Scope, r.Key))
		if v := b.Get(k); v != nil {
			if err := json.Unmarshal(v, &out); err != nil {
				return err
			}
			if out.Done() || !out.UpdatedAt.Before(staleBefore) {
				return nil
			}
			out.UpdatedAt = r.UpdatedAt
		} else {
			out = r
			if err := tx.Bucket(bucketIdemCreated).Put(idemCreatedKey(r), nil); err != nil {
				return err
			}
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

// getIdem returns the record of scope and key, or ok false.
func getIdem(tx *bbolt.Tx, k []byte) (r journal.IdempotencyRecord, ok bool, err error) {
	v := tx.Bucket(bucketIdem).Get(k)
	if v == nil {
		return r, false, nil
	}
	return r, true, json.Unmarshal(v, &r)
}

func (s *Store) CompleteIdempotency(_ context.Context, r journal.IdempotencyRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		k := []byte(idemKey(r.Scope, r.Key))
		created := tx.Bucket(bucketIdemCreated)
		prev, ok, err := getIdem(tx, k)
		if err != nil {
			return err
		}
		if ok && !prev.CreatedAt.Equal(r.CreatedAt) {
			if err := created.Delete(idemCreatedKey(prev)); err != nil {
				return err
			}
		}
		if err := created.Put(idemCreatedKey(r), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketIdem).Put(k, v)
	})
}

func (s *Store) RefreshIdempotency(_ context.Context, scope, key string, at time.Time) (bool, error) {
	refreshed := false
	err := s.update(func(tx *bbolt.Tx) error {
		refreshed = false // update may run this function again
		k := []byte(idemKey(scope, key))
		r, ok, err := getIdem(tx, k)
		if err != nil || !ok || r.Done() {
			return err
		}
		r.UpdatedAt = at
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		refreshed = true
		return tx.Bucket(bucketIdem).Put(k, v)
	})
	return refreshed && err == nil, err
}

func (s *Store) ReleaseIdempotency(_ context.Context, scope, key string) error {
	return s.update(func(tx *bbolt.Tx) error {
		k := []byte(idemKey(scope, key))
		r, ok, err := getIdem(tx, k)
		if err != nil || !ok || r.Done() {
			return err
		}
		if err := tx.Bucket(bucketIdemCreated).Delete(idemCreatedKey(r)); err != nil {
			return err
		}
		return tx.Bucket(bucketIdem).Delete(k)
	})
}

// Idempotency returns the record of a key, or journal.ErrNotFound. It is
// not part of journal.Store (the host never reads a key without claiming
// it): tests and tools inspect records with it.
func (s *Store) Idempotency(_ context.Context, scope, key string) (journal.IdempotencyRecord, error) {
	var r journal.IdempotencyRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		var ok bool
		var err error
		r, ok, err = getIdem(tx, []byte(idemKey(scope, key)))
		if err == nil && !ok {
			return journal.ErrNotFound
		}
		return err
	})
	return r, err
}

// PurgeIdempotency reads the creation index up to t: completed records are
// deleted, claims still in progress kept.
func (s *Store) PurgeIdempotency(ctx context.Context, t time.Time) (int, error) {
	end := timeKey(t)
	total := 0
	var from []byte // the first index key not looked at yet
	for ctx.Err() == nil {
		n := 0
		var next []byte
		err := s.update(func(tx *bbolt.Tx) error {
			n, next = 0, nil
			idem, created := tx.Bucket(bucketIdem), tx.Bucket(bucketIdemCreated)
			var drop [][]byte // index keys to delete
			c := created.Cursor()
			k, _ := c.First()
			if from != nil {
				k, _ = c.Seek(from)
			}
			for ; k != nil && bytes.Compare(k[:8], end) < 0; k, _ = c.Next() {
				if len(drop) == purgeChunk {
					next = append([]byte{}, k...)
					break
				}
				r, ok, err := getIdem(tx, k[8:])
				if err != nil {
					return err
				}
				if ok && ((!r.Done() && !r.UpdatedAt.Before(t)) || !r.CreatedAt.Before(t)) {
					// A claim whose owner still beats (or a key re-created
					// since) is kept; a parked or abandoned claim goes.
					continue
				}
				drop = append(drop, append([]byte{}, k...))
				if ok {
					n++
				}
			}
			for _, k := range drop {
				if err := idem.Delete(k[8:]); err != nil {
					return err
				}
				if err := created.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		total += n
		if err != nil || next == nil {
			return total, err
		}
		from = next
	}
	return total, ctx.Err()
}

func (s *Store) Close() error {
	l := s.log
	l.mu.Lock()
	closed := l.closed
	l.closed = true
	l.mu.Unlock()
	if closed {
		return nil
	}
	// What the log holds goes into bolt, so that a closed file is whole
	// by itself (a copy or a compaction of it loses nothing); if that
	// fails, the log keeps it for the next open.
	ferr := s.flush()
	l.mu.Lock()
	failed := l.failed
	l.mu.Unlock()
	s.stopCheckpointer()
	s.c.close()
	var merr error
	if ferr == nil && failed == nil {
		merr = s.markClosed()
	}
	return errors.Join(merr, s.db.Close(), ferr, l.f.Close())
}

// markClosed records that the log holds nothing the file lacks, when so
// (no write came in since the flush: writes are refused by now), so that
// the next open needs no log: a copy of the file alone, or a file whose
// log is lost, opens whole.
func (s *Store) markClosed() error {
	l := s.log
	l.mu.Lock()
	empty := l.over.empty() && l.frozen == nil && l.ckptErr == nil
	l.mu.Unlock()
	if !empty {
		return nil
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		return meta.Put(keyWALClosed, bytes.Clone(meta.Get(keyWALEpoch)))
	})
}

// stopCheckpointer refuses every write from now on and stops the
// checkpointer, once its commit under way (if any) has ended.
func (s *Store) stopCheckpointer() {
	l := s.log
	l.mu.Lock()
	l.failed = errBoltClosed
	l.stopped = true
	close(l.kick)
	l.cond.Broadcast() // writers waiting for a frozen pass give up
	l.mu.Unlock()
	<-s.ckptDone
}

var _ journal.Store = (*Store)(nil)

// Path is the bolt file's path.
func (s *Store) Path() string { return s.db.Path() }

// PagesWritten is how many pages the journal's writes have written so far
// (bbolt's own count for its commits, and the 4 KiB pages the pending
// log's appends wrote into): the benchmarks report it per checkout, a
// figure the disk's noise does not blur.
func (s *Store) PagesWritten() int64 {
	st := s.db.Stats()
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return st.TxStats.GetWrite() + s.log.pages
}
