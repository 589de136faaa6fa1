package journal

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// StatusActive is the status of a lent loan: ExpiredLoans returns loans
// in it whose expiry has passed.
const StatusActive = "active"

// Loan is the journal's record of a loan: what the host shows of it and
// what it needs to act on it later. The JSON member names are those of
// schema 1 (the API's), flat rather than nested under "loan".
type Loan struct {
	ID          string            `json:"id"`
	Provider    string            `json:"provider"`
	Item        string            `json:"item"`
	Patron      string            `json:"patron"`
	Status      string            `json:"status"`
	Format      string            `json:"format,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
	Links       []Link            `json:"links"`
	ProviderRef map[string]string `json:"provider_ref,omitempty"`
	// PatronKey is what the distributor knows of the patron (a pseudonym
	// unless the instance sends patron ids).
	PatronKey  string            `json:"patron_key"`
	PatronName string            `json:"patron_name,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
	// Days is the loan length the checkout asked for, for a resolution
	// that places the order again and for the expiry of a loan whose
	// distributor did not tell it.
	Days int `json:"days,omitempty"`
	// AttemptAt is when the checkout attempt that wrote this pending record
	// began: a retry under the same Idempotency-Key keeps CreatedAt and
	// moves AttemptAt, so that a retry in flight is never taken for a
	// checkout whose process died. Zero in records written before it
	// (CreatedAt stands for it).
	AttemptAt time.Time `json:"attempt_at,omitzero"`
	// Version counts the writes of the record: a read returns the version
	// stored, a write expects it (0: no record yet) and the store keeps the
	// record at the next one (Store). A record written before versions
	// reads as version 1, the version of a record written once.
	Version int64 `json:"version,omitempty"`
}

// Attempted is when the checkout attempt that wrote l began: AttemptAt, or
// CreatedAt in a record written before it.
func (l Loan) Attempted() time.Time {
	if l.AttemptAt.IsZero() {
		return l.CreatedAt
	}
	return l.AttemptAt
}

// Link is a link of a loan's content.
type Link struct {
	Format    string     `json:"format"`
	Rel       string     `json:"rel"`
	Href      string     `json:"href"`
	Type      string     `json:"type,omitempty"`
	Name      string     `json:"name,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// loanV1 is the part of a schema 1 loan record nested under "loan".
type loanV1 struct {
	ID          string            `json:"id"`
	Provider    string            `json:"provider"`
	Item        string            `json:"item"`
	Patron      string            `json:"patron"`
	Status      string            `json:"status"`
	Format      string            `json:"format"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   *time.Time        `json:"expires_at"`
	Links       []Link            `json:"links"`
	ProviderRef map[string]string `json:"provider_ref"`
}

// UnmarshalJSON reads a loan record of either schema: flat (2), or with
// the loan nested under "loan" (1). A record without a version (written
// before versions) reads as version 1.
func (l *Loan) UnmarshalJSON(b []byte) error {
	type flat Loan // the same fields, without this method
	var x struct {
		flat
		V1 *loanV1 `json:"loan"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*l = Loan(x.flat)
	if v := x.V1; v != nil {
		l.ID, l.Provider, l.Item, l.Patron, l.Status, l.Format = v.ID, v.Provider, v.Item, v.Patron, v.Status, v.Format
		l.CreatedAt, l.ExpiresAt, l.Links, l.ProviderRef = v.CreatedAt, v.ExpiresAt, v.Links, v.ProviderRef
	}
	l.Version = StoredVersion(l.Version)
	return nil
}

// StoredVersion is the version of a stored record whose "version" member
// reads v: a record written before versions (0) is at version 1. Drivers
// that read the member themselves (an index, a SQL condition) use it.
func StoredVersion(v int64) int64 { return max(v, 1) }

// Expiring says whether l is an active loan with an expiry: the loans
// ExpiredLoans looks at.
func (l Loan) Expiring() bool { return l.Status == StatusActive && l.ExpiresAt != nil }

// Clone copies the maps and slices of l, so that a driver that keeps
// values never shares them with its callers.
func (l Loan) Clone() Loan {
	if l.Links != nil {
		l.Links = slices.Clone(l.Links)
	}
	l.ProviderRef = maps.Clone(l.ProviderRef)
	l.Options = maps.Clone(l.Options)
	return l
}

// Event is an entry of the event log. ID and Cursor are declared first:
// the bolt driver encodes an event before its number is drawn and splices
// them in (bolt/event.go).
type Event struct {
	ID       string            `json:"id"`
	Cursor   string            `json:"cursor"`
	Type     string            `json:"type"`
	Provider string            `json:"provider"`
	Loan     string            `json:"loan"`
	Patron   string            `json:"patron"`
	Item     string            `json:"item"`
	At       time.Time         `json:"at"`
	Data     map[string]string `json:"data"`
}

// Outcome is what a completed idempotency record keeps: an answer to
// replay, or a final refusal (an error) to replay.
type Outcome string

const (
	// OutcomeNone is a record in progress (claimed, or parked).
	OutcomeNone Outcome = ""
	// OutcomeAnswer keeps the call's answer in Body.
	OutcomeAnswer Outcome = "answer"
	// OutcomeRefusal keeps the call's final refusal in Body.
	OutcomeRefusal Outcome = "refusal"
)

// IdempotencyRecord is a request made with an Idempotency-Key: in progress
// (Outcome none) or its first answer.
type IdempotencyRecord struct {
	Scope       string `json:"scope"`
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	// Ref is what the first attempt reserved (the loan id), so that a
	// retry after a crash reuses it and the distributor sees one order.
	Ref     string  `json:"ref,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"`
	Body    []byte  `json:"body,omitempty"`
	// Unknown marks a claim whose call may have reached the distributor
	// without the host learning the outcome (a timeout, a plugin dying
	// mid-call, a journal write failing after the answer). Such a claim is
	// kept, with its Ref, until the key expires: it is parked (in
	// progress, UpdatedAt at the Unix epoch, so that the next retry takes
	// it over at once) and a retry re-sends only where the distributor
	// deduplicates by Ref, otherwise it answers outcome_unknown.
	Unknown bool `json:"unknown,omitempty"`
	// CreatedAt is when the key was first claimed; UpdatedAt is its owner's
	// heartbeat while in progress, then when the outcome was stored.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Done says whether r holds an outcome (else it is in progress).
func (r IdempotencyRecord) Done() bool { return r.Outcome != OutcomeNone }

// UnmarshalJSON reads a record of either schema: schema 1 kept the
// outcome as the HTTP status of the first answer ("status": 0 in
// progress, 4xx or 5xx a refusal, else an answer).
func (r *IdempotencyRecord) UnmarshalJSON(b []byte) error {
	type plain IdempotencyRecord // the same fields, without this method
	var x struct {
		plain
		Status int `json:"status"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*r = IdempotencyRecord(x.plain)
	if r.Outcome == OutcomeNone && x.Status != 0 {
		r.Outcome = OutcomeAnswer
		if x.Status >= 400 {
			r.Outcome = OutcomeRefusal
		}
	}
	return nil
}

// WebhookState is an endpoint's journaled delivery state.
type WebhookState struct {
	// Endpoint is the key the host keeps the endpoint under: its URL
	// without query or user info (the host shows the endpoint by its
	// configured name instead).
	Endpoint string `json:"endpoint"`
	// Cursor is the cursor of the last event delivered or given up ("":
	// none yet).
	Cursor string `json:"cursor,omitempty"`
	// Attempts counts failed attempts since the last delivery.
	Attempts int `json:"attempts,omitempty"`
	// FailingSince is the first failed attempt since the last delivery.
	FailingSince time.Time `json:"failing_since,omitzero"`
	// EventFailingSince is the first failed attempt of the event after
	// Cursor.
	EventFailingSince time.Time `json:"event_failing_since,omitzero"`
	LastSuccess       time.Time `json:"last_success,omitzero"`
	// LastError is the kind of the last failure ("status", "timeout",
	// "connection"); LastStatus the receiver's HTTP status, if any.
	LastError  string `json:"last_error,omitempty"`
	LastStatus int    `json:"last_status,omitempty"`
	// GivenUp counts the events given up.
	GivenUp int64 `json:"given_up,omitempty"`
}
