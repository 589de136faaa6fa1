package journaltest

import (
	"errors"
	"testing"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// Schema 1 is what every journal written before the journal package holds
// (commit e694c1f and earlier). The bolt driver's testdata/v1.db was
// written by that commit's host.OpenBoltStore with the records below; the
// postgres driver's test inserts them as that commit's SQL did. Schema1*
// are those records as that code encoded them, CheckSchema1 what a store
// opened on them must read.

// Schema1Loan is a loan record of schema 1: its JSON, and its key columns.
type Schema1Loan struct {
	Provider, ID, Patron, Status string
	ExpiresAt                    *time.Time
	JSON                         string
}

// Schema1Event is an event of schema 1, with its dedupe key ("" none).
// Its JSON has the id and cursor its number gives it (bolt stores them;
// postgres stores them empty).
type Schema1Event struct {
	JSON, DedupeKey string
}

// Schema1Idempotency is an idempotency record of schema 1.
type Schema1Idempotency struct {
	Scope, Key, JSON     string
	Status               int
	CreatedAt, UpdatedAt time.Time
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func timeRef(s string) *time.Time { t := mustTime(s); return &t }

// Schema1Loans are the fixture's loans, in provider and id order.
func Schema1Loans() []Schema1Loan {
	return []Schema1Loan{
		{"cb", "01HV0000000000000000000001", "patron-1", "active", timeRef("2026-01-23T10:00:00Z"),
			`{"loan":{"id":"01HV0000000000000000000001","provider":"cb","item":"9780000000001","patron":"patron-1","status":"active","format":"epub","created_at":"2026-01-02T10:00:00Z","expires_at":"2026-01-23T10:00:00Z","links":[{"format":"epub","rel":"acquisition","href":"https://cb.example/dl/1.acsm","name":"Adobe","expires_at":"2026-01-02T11:00:00Z"},{"format":"epub","rel":"read","href":"https://cb.example/read/1"}],"provider_ref":{"transaction":"tx-1"}},"patron_key":"pk-1","patron_name":"Ada","options":{"lang":"fr"},"days":21}`},
		{"cb", "01HV0000000000000000000002", "patron-1", "returned", timeRef("2026-01-24T09:00:00Z"),
			`{"loan":{"id":"01HV0000000000000000000002","provider":"cb","item":"9780000000002","patron":"patron-1","status":"returned","created_at":"2026-01-03T09:00:00Z","expires_at":"2026-01-24T09:00:00Z","links":[]},"patron_key":"pk-1","days":21}`},
		{"cb", "01HV0000000000000000000003", "patron-2", "pending", nil,
			`{"loan":{"id":"01HV0000000000000000000003","provider":"cb","item":"9780000000003","patron":"patron-2","status":"pending","created_at":"2026-01-05T08:00:00Z","links":[]},"patron_key":"pk-2"}`},
		{"demarque", "01HV0000000000000000000004", "patron-2", "unknown", nil,
			`{"loan":{"id":"01HV0000000000000000000004","provider":"demarque","item":"isbn-4","patron":"patron-2","status":"unknown","created_at":"2026-01-06T08:00:00Z","links":[]},"patron_key":"patron-2","patron_name":"Bob","days":14}`},
		{"ehub", "01HV0000000000000000000005", "patron-3", "active", nil,
			`{"loan":{"id":"01HV0000000000000000000005","provider":"ehub","item":"ehub-5","patron":"patron-3","status":"active","format":"pdf","created_at":"2026-01-07T08:00:00Z","links":[{"format":"pdf","rel":"acquisition","href":"https://ehub.example/5"}]},"patron_key":"pk-3"}`},
		{"ehub", "01HV0000000000000000000006", "patron-3", "expired", timeRef("2025-12-15T08:00:00Z"),
			`{"loan":{"id":"01HV0000000000000000000006","provider":"ehub","item":"ehub-6","patron":"patron-3","status":"expired","created_at":"2025-12-01T08:00:00Z","expires_at":"2025-12-15T08:00:00Z","links":[]},"patron_key":"pk-3"}`},
	}
}

// Schema1Events are the fixture's events, numbered 1 to 4.
func Schema1Events() []Schema1Event {
	return []Schema1Event{
		{`{"id":"ev_0000000000000001","cursor":"0000000000000001","type":"loan.pending","provider":"cb","loan":"01HV0000000000000000000001","patron":"patron-1","item":"9780000000001","at":"2026-01-02T10:00:00Z","data":{}}`, ""},
		{`{"id":"ev_0000000000000002","cursor":"0000000000000002","type":"loan.created","provider":"cb","loan":"01HV0000000000000000000001","patron":"patron-1","item":"9780000000001","at":"2026-01-02T10:00:01Z","data":{"format":"epub"}}`, "checkout:cb:key-1"},
		{`{"id":"ev_0000000000000003","cursor":"0000000000000003","type":"loan.returned","provider":"cb","loan":"01HV0000000000000000000002","patron":"patron-1","item":"9780000000002","at":"2026-01-04T09:00:00Z","data":{"reason":"patron"}}`, "return:cb:2"},
		{`{"id":"ev_0000000000000004","cursor":"0000000000000004","type":"loan.unknown","provider":"demarque","loan":"01HV0000000000000000000004","patron":"patron-2","item":"isbn-4","at":"2026-01-06T08:00:05Z","data":{"code":"outcome_unknown"}}`, ""},
	}
}

// Schema1Idempotencies are the fixture's keys: one completed (201), one
// parked of unknown outcome, one in progress.
func Schema1Idempotencies() []Schema1Idempotency {
	return []Schema1Idempotency{
		{"checkout:cb", "key-1", `{"scope":"checkout:cb","key":"key-1","fingerprint":"fp-1","ref":"01HV0000000000000000000001","status":201,"body":"eyJpZCI6IjAxSFYwMDAwMDAwMDAwMDAwMDAwMDAwMDAxIn0=","created_at":"2026-01-02T10:00:00Z","updated_at":"2026-01-02T10:00:01Z"}`,
			201, mustTime("2026-01-02T10:00:00Z"), mustTime("2026-01-02T10:00:01Z")},
		{"checkout:demarque", "key-4", `{"scope":"checkout:demarque","key":"key-4","fingerprint":"fp-4","ref":"01HV0000000000000000000004","status":0,"unknown":true,"created_at":"2026-01-06T08:00:00Z","updated_at":"1970-01-01T00:00:00Z"}`,
			0, mustTime("2026-01-06T08:00:00Z"), mustTime("1970-01-01T00:00:00Z")},
		{"return:cb", "key-5", `{"scope":"return:cb","key":"key-5","fingerprint":"fp-5","status":0,"created_at":"2026-01-08T08:00:00Z","updated_at":"2026-01-08T08:00:30Z"}`,
			0, mustTime("2026-01-08T08:00:00Z"), mustTime("2026-01-08T08:00:30Z")},
	}
}

// Schema1Webhook is the fixture's webhook endpoint: its state, held by
// node-a until Schema1WebhookUntil.
const (
	Schema1WebhookEndpoint = "https://ils.example/hook"
	Schema1WebhookState    = `{"endpoint":"https://ils.example/hook","cursor":"0000000000000002","attempts":2,"failing_since":"2026-01-08T09:00:10Z","event_failing_since":"2026-01-08T09:00:10Z","last_success":"2026-01-08T08:59:00Z","last_error":"status","last_status":503,"given_up":1}`
	Schema1WebhookHolder   = "node-a"
)

// Schema1WebhookUntil is the end of the fixture's webhook lease.
func Schema1WebhookUntil() time.Time { return mustTime("2026-01-08T09:02:00Z") }

// CheckSchema1 reads every record of the schema 1 fixture from s and
// fails t unless each is what the code that wrote it put; then it writes
// to s (a loan changed, an event, a key completed) and reads that back.
func CheckSchema1(t *testing.T, s journal.Store) {
	t.Helper()
	ctx := t.Context()
	exp := mustTime("2026-01-23T10:00:00Z")
	linkExp := mustTime("2026-01-02T11:00:00Z")
	want := journal.Loan{ID: "01HV0000000000000000000001", Provider: "cb", Item: "9780000000001", Patron: "patron-1",
		Status: "active", Format: "epub", CreatedAt: mustTime("2026-01-02T10:00:00Z"), ExpiresAt: &exp,
		Links: []journal.Link{
			{Format: "epub", Rel: "acquisition", Href: "https://cb.example/dl/1.acsm", Name: "Adobe", ExpiresAt: &linkExp},
			{Format: "epub", Rel: "read", Href: "https://cb.example/read/1"},
		},
		ProviderRef: map[string]string{"transaction": "tx-1"},
		PatronKey:   "pk-1", PatronName: "Ada", Options: map[string]string{"lang": "fr"}, Days: 21,
		// Written before versions: read as version 1, the version a
		// compare-and-set write of it expects.
		Version: 1}
	got, err := s.Loan(ctx, "cb", want.ID)
	if err != nil {
		t.Fatalf("the active loan of schema 1: %v", err)
	}
	mustJSON(t, got, want, "the active loan of schema 1")
	if !got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("times of the active loan: %v %v", got.CreatedAt, got.ExpiresAt)
	}
	unknown, err := s.Loan(ctx, "demarque", "01HV0000000000000000000004")
	if err != nil || unknown.Status != "unknown" || unknown.PatronKey != "patron-2" || unknown.PatronName != "Bob" ||
		unknown.Days != 14 || unknown.Item != "isbn-4" {
		t.Fatalf("the unknown loan of schema 1: %+v, %v", unknown, err)
	}

	// Every index of the file answers for its old records.
	ls, err := s.PatronLoans(ctx, "cb", "patron-1")
	mustIDs(t, ls, err, "cb/01HV0000000000000000000001", "cb/01HV0000000000000000000002")
	ls, err = s.PatronLoans(ctx, "ehub", "patron-3")
	mustIDs(t, ls, err, "ehub/01HV0000000000000000000005", "ehub/01HV0000000000000000000006")
	ls, err = s.LoansByStatus(ctx, "", "active", 0)
	mustIDs(t, ls, err, "cb/01HV0000000000000000000001", "ehub/01HV0000000000000000000005")
	ls, err = s.LoansByStatus(ctx, "", "pending", 0)
	mustIDs(t, ls, err, "cb/01HV0000000000000000000003")
	ls, err = s.LoansByStatus(ctx, "demarque", "unknown", 0)
	mustIDs(t, ls, err, "demarque/01HV0000000000000000000004")
	ls, err = s.ExpiredLoans(ctx, mustTime("2026-02-01T00:00:00Z"), 0)
	mustIDs(t, ls, err, "cb/01HV0000000000000000000001")
	if ls[0].Links == nil || len(ls[0].Links) != 2 {
		t.Fatalf("links of the expired listing: %+v", ls[0].Links)
	}

	evs, err := s.Events(ctx, "", 10)
	if err != nil || len(evs) != 4 {
		t.Fatalf("events of schema 1: %d, %v", len(evs), err)
	}
	wantEv := journal.Event{ID: "ev_0000000000000002", Cursor: "0000000000000002", Type: "loan.created", Provider: "cb",
		Loan: "01HV0000000000000000000001", Patron: "patron-1", Item: "9780000000001", At: mustTime("2026-01-02T10:00:01Z"),
		Data: map[string]string{"format": "epub"}}
	mustJSON(t, evs[1], wantEv, "event 2 of schema 1")
	for i, e := range evs {
		if e.Cursor != journal.FormatCursor(uint64(i+1)) || e.ID != "ev_"+e.Cursor {
			t.Fatalf("event %d: id %q cursor %q", i+1, e.ID, e.Cursor)
		}
	}
	if page, err := s.Events(ctx, evs[1].Cursor, 10); err != nil || len(page) != 2 || page[0].Type != "loan.returned" {
		t.Fatalf("events after cursor 2: %+v, %v", page, err)
	}
	// A dedupe key of schema 1 still deduplicates.
	if again, applied, err := s.Apply(ctx, got, journal.Event{Type: "loan.created", Provider: "cb", Loan: got.ID,
		At: mustTime("2026-01-09T00:00:00Z")}, "checkout:cb:key-1"); err != nil || applied || again.ID != wantEv.ID {
		t.Fatalf("Apply with a dedupe key of schema 1: %+v %v %v", again, applied, err)
	}

	// Idempotency records: the HTTP status of schema 1 reads as an outcome.
	done, err := idempotency(t, s, "checkout:cb", "key-1")
	if err != nil || done.Outcome != journal.OutcomeAnswer || string(done.Body) != `{"id":"01HV0000000000000000000001"}` ||
		done.Ref != want.ID || done.Fingerprint != "fp-1" || !done.UpdatedAt.Equal(mustTime("2026-01-02T10:00:01Z")) {
		t.Fatalf("the completed key of schema 1: %+v, %v", done, err)
	}
	if r, claimed, err := s.ClaimIdempotency(ctx, journal.IdempotencyRecord{Scope: "checkout:cb", Key: "key-1",
		Fingerprint: "fp-1", CreatedAt: mustTime("2026-01-09T00:00:00Z"), UpdatedAt: mustTime("2026-01-09T00:00:00Z")},
		mustTime("2026-01-09T00:00:00Z")); err != nil || claimed || !r.Done() {
		t.Fatalf("a claim of the completed key of schema 1: %+v %v %v", r, claimed, err)
	}
	parked, err := idempotency(t, s, "checkout:demarque", "key-4")
	if err != nil || parked.Done() || !parked.Unknown || parked.Ref != "01HV0000000000000000000004" || parked.UpdatedAt.Unix() != 0 {
		t.Fatalf("the parked key of schema 1: %+v, %v", parked, err)
	}
	// The parked claim is taken over at once, keeping its Ref.
	now := mustTime("2026-01-09T00:00:00Z")
	if r, claimed, err := s.ClaimIdempotency(ctx, journal.IdempotencyRecord{Scope: "checkout:demarque", Key: "key-4",
		Fingerprint: "fp-4", Ref: "other", CreatedAt: now, UpdatedAt: now}, now.Add(-time.Minute)); err != nil || !claimed ||
		r.Ref != "01HV0000000000000000000004" || !r.Unknown {
		t.Fatalf("taking over the parked key of schema 1: %+v %v %v", r, claimed, err)
	}
	running, err := idempotency(t, s, "return:cb", "key-5")
	if err != nil || running.Done() || running.Unknown || !running.UpdatedAt.Equal(mustTime("2026-01-08T08:00:30Z")) {
		t.Fatalf("the key in progress of schema 1: %+v, %v", running, err)
	}
	if ok, err := s.RefreshIdempotency(ctx, "return:cb", "key-5", now); err != nil || !ok {
		t.Fatalf("a heartbeat of the key in progress of schema 1: %v %v", ok, err)
	}
	running.Outcome, running.Body, running.UpdatedAt = journal.OutcomeRefusal, []byte(`{"code":"not_available"}`), now
	if err := s.CompleteIdempotency(ctx, running); err != nil {
		t.Fatal(err)
	}
	if r, err := idempotency(t, s, "return:cb", "key-5"); err != nil || r.Outcome != journal.OutcomeRefusal {
		t.Fatalf("the key completed on the old journal: %+v, %v", r, err)
	}

	// Webhook state, where the store journals deliveries.
	if w, ok := s.(journal.Webhooks); ok {
		st, err := w.WebhookState(ctx, Schema1WebhookEndpoint)
		wantSt := journal.WebhookState{Endpoint: Schema1WebhookEndpoint, Cursor: "0000000000000002", Attempts: 2,
			FailingSince: mustTime("2026-01-08T09:00:10Z"), EventFailingSince: mustTime("2026-01-08T09:00:10Z"),
			LastSuccess: mustTime("2026-01-08T08:59:00Z"), LastError: "status", LastStatus: 503, GivenUp: 1}
		if err != nil {
			t.Fatalf("the webhook of schema 1: %v", err)
		}
		mustJSON(t, st, wantSt, "the webhook of schema 1")
		if _, held, err := w.LeaseWebhook(ctx, Schema1WebhookEndpoint, "node-b", Schema1WebhookUntil().Add(-time.Second),
			Schema1WebhookUntil().Add(time.Minute)); err != nil || held {
			t.Fatalf("node-b took node-a's running lease of schema 1: %v %v", held, err)
		}
	}

	// Writing to the old journal: a loan changed, and an event after the
	// old ones. Its records have no version: a write expecting none (a
	// creation) conflicts, one expecting 1 applies and stores 2.
	got.Status, got.Links = "returned", []journal.Link{}
	ret := journal.Event{Type: "loan.returned", Provider: "cb", Loan: got.ID,
		Patron: got.Patron, Item: got.Item, At: now, Data: map[string]string{}}
	create := got
	create.Version = 0
	if _, _, err := s.Apply(ctx, create, ret, "return:cb:1"); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("Apply creating a loan of the old journal: %v, want ErrConflict", err)
	}
	ev, applied, err := s.Apply(ctx, got, ret, "return:cb:1")
	if err != nil || !applied || ev.Cursor != journal.FormatCursor(5) {
		t.Fatalf("Apply on the old journal: %+v %v %v", ev, applied, err)
	}
	if l, err := s.Loan(ctx, "cb", got.ID); err != nil || l.Version != 2 {
		t.Fatalf("the old loan after a write: version %d, %v; want 2", l.Version, err)
	}
	if err := s.PutLoan(ctx, got); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("a second write from the old record's version: %v, want ErrConflict", err)
	}
	if err := s.DeleteLoan(ctx, "ehub", "01HV0000000000000000000006", 2); !errors.Is(err, journal.ErrConflict) {
		t.Fatalf("deleting a loan of the old journal at version 2: %v, want ErrConflict", err)
	}
	ls, err = s.PatronLoans(ctx, "cb", "patron-1")
	mustIDs(t, ls, err, "cb/01HV0000000000000000000001", "cb/01HV0000000000000000000002")
	if ls[0].Status != "returned" || ls[0].PatronName != "Ada" || ls[0].Days != 21 {
		t.Fatalf("the loan rewritten on the old journal: %+v", ls[0])
	}
	ls, err = s.LoansByStatus(ctx, "", "active", 0)
	mustIDs(t, ls, err, "ehub/01HV0000000000000000000005")
	ls, err = s.ExpiredLoans(ctx, mustTime("2026-02-01T00:00:00Z"), 0)
	mustIDs(t, ls, err)
}
