package host

import (
	"context"
	"errors"

	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/sdk"
)

// Loan returns a loan as the host knows it.
func (h *Host) Loan(ctx context.Context, provider, id string) (Loan, error) {
	rec, err := h.loanRecord(ctx, provider, id)
	return rec.Loan, err
}

func (h *Host) loanRecord(ctx context.Context, provider, id string) (storedLoan, error) {
	if _, err := h.instance(provider); err != nil {
		return storedLoan{}, err
	}
	rec, err := h.store.Loan(ctx, provider, id)
	if errors.Is(err, ErrNotFound) {
		return storedLoan{}, sdk.Errorf(sdk.CodeLoanNotFound, "no loan %q at provider %s", echo(id), echo(provider))
	}
	return rec, err
}

// PatronLoans returns a patron's loans at a provider, from the journal.
func (h *Host) PatronLoans(ctx context.Context, provider, patron string) ([]Loan, error) {
	if _, err := h.instance(provider); err != nil {
		return nil, err
	}
	if err := checkPatron(patron); err != nil {
		return nil, err
	}
	recs, err := h.store.PatronLoans(ctx, provider, patron)
	if err != nil {
		return nil, err
	}
	return loansOf(recs), nil
}

// loanStatuses are the statuses a loan can have in the journal.
var loanStatuses = []string{StatusActive, StatusReturned, StatusExpired, StatusRevoked, StatusPending, StatusUnknown}

// maxStatusList bounds LoansByStatus.
const maxStatusList = 1000

// LoansByStatus returns up to 1000 loans in a status at a provider: with
// StatusUnknown, the checkouts whose outcome the host could not learn.
func (h *Host) LoansByStatus(ctx context.Context, provider, status string) ([]Loan, error) {
	if _, err := h.instance(provider); err != nil {
		return nil, err
	}
	known := false
	for _, s := range loanStatuses {
		known = known || s == status
	}
	if !known {
		return nil, invalid("status must be one of %v", loanStatuses)
	}
	recs, err := h.store.LoansByStatus(ctx, provider, status, maxStatusList)
	if err != nil {
		return nil, err
	}
	return loansOf(recs), nil
}

func loanRef(rec storedLoan) sdk.LoanRef {
	ref := sdk.LoanRef{ID: rec.Loan.ID, Item: rec.Loan.Item, Patron: rec.PatronKey, PatronName: rec.PatronName,
		Format: rec.Loan.Format, ProviderRef: rec.Loan.ProviderRef, Options: rec.Options}
	if rec.Loan.ExpiresAt != nil {
		ref.ExpiresAt = *rec.Loan.ExpiresAt
	}
	return ref
}

func requireActive(l Loan) error {
	if l.Status != StatusActive {
		return sdk.Errorf(sdk.CodeNotAvailable, "loan %s is %s", l.ID, l.Status)
	}
	return nil
}

func (h *Host) activeLoan(ctx context.Context, provider, loanID string, c sdk.Capability) (*instance, storedLoan, error) {
	in, err := h.instance(provider)
	if err != nil {
		return nil, storedLoan{}, err
	}
	if err := in.requireCapability(c); err != nil {
		return nil, storedLoan{}, err
	}
	rec, err := h.loanRecord(ctx, provider, loanID)
	if err != nil {
		return nil, storedLoan{}, err
	}
	return in, rec, requireActive(rec.Loan)
}

// Events pages the event log, oldest first. limit defaults to 100 and is at
// most 1000.
func (h *Host) Events(ctx context.Context, after string, limit int) (EventPage, error) {
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		return EventPage{}, invalid("limit must be at most 1000")
	}
	if _, err := journal.ParseCursor(after); err != nil {
		return EventPage{}, invalid("%v", err)
	}
	evs, err := h.store.Events(ctx, after, limit)
	if err != nil {
		return EventPage{}, err
	}
	if evs == nil {
		evs = []Event{} // "events" is never null
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Cursor
	}
	return EventPage{Events: evs, Next: next}, nil
}
