package host

import (
	"maps"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// Between the host's records and the journal's: the journal keeps types
// of its own, so that renaming a field of the API never changes what is on
// disk. An Event or a WebhookState converts as a whole (the same fields;
// a field added to one and not the other stops this file compiling); a
// loan is copied field by field.

// storedLoan is the host's copy of a loan: the public Loan plus what the
// host needs to act on it later.
type storedLoan struct {
	Loan Loan
	// PatronKey is what the distributor knows of the patron (a pseudonym
	// unless the instance sends patron ids).
	PatronKey  string
	PatronName string
	Options    map[string]string
	// Days is the loan length the checkout asked for, for a resolution
	// that places the order again (sdk.ResolveRequest.Days) and for the
	// expiry of a loan whose distributor did not tell it.
	Days int
	// AttemptAt is when the checkout attempt that wrote the pending record
	// began (journal.Loan.AttemptAt).
	AttemptAt time.Time
	// Version is the journal's version of the record as read: a write of
	// it expects that version (0: a new record), and fails with
	// journal.ErrConflict if the loan changed since (cas.go).
	Version int64
}

// attempted is when the checkout attempt that wrote r began.
func (r storedLoan) attempted() time.Time { return journalLoan(r).Attempted() }

// journalLoan is r as the journal keeps it. Only an active loan keeps its
// links, as the API shows them (Loan.MarshalJSON) and as schema 1 stored
// them.
func journalLoan(r storedLoan) journal.Loan {
	l := r.Loan
	out := journal.Loan{ID: l.ID, Provider: l.Provider, Item: l.Item, Patron: l.Patron, Status: l.Status,
		Format: l.Format, CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt, ProviderRef: l.ProviderRef,
		PatronKey: r.PatronKey, PatronName: r.PatronName, Options: r.Options, Days: r.Days,
		AttemptAt: r.AttemptAt, Version: r.Version}
	out.Links = make([]journal.Link, 0, len(l.Links))
	if l.Status == StatusActive {
		for _, k := range l.Links {
			out.Links = append(out.Links, journal.Link(k))
		}
	}
	return out
}

// loanRecord is the host's record of the journal's l.
func loanRecord(l journal.Loan) storedLoan {
	out := storedLoan{Loan: Loan{ID: l.ID, Provider: l.Provider, Item: l.Item, Patron: l.Patron, Status: l.Status,
		Format: l.Format, CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt, ProviderRef: l.ProviderRef},
		PatronKey: l.PatronKey, PatronName: l.PatronName, Options: l.Options, Days: l.Days,
		AttemptAt: l.AttemptAt, Version: l.Version}
	if l.Links != nil {
		out.Loan.Links = make([]Link, len(l.Links))
		for i, k := range l.Links {
			out.Loan.Links[i] = Link(k)
		}
	}
	return out
}

// loanRecords converts a journal's listing.
func loanRecords(ls []journal.Loan, err error) ([]storedLoan, error) {
	if err != nil {
		return nil, err
	}
	out := make([]storedLoan, len(ls))
	for i, l := range ls {
		out[i] = loanRecord(l)
	}
	return out, nil
}

// cloneMap copies m (nil stays nil).
func cloneMap(m map[string]string) map[string]string { return maps.Clone(m) }
