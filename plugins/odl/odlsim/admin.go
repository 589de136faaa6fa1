package odlsim

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnknownLoan is returned by the admin actions for a checkout the
// simulator has no loan for.
var ErrUnknownLoan = errors.New("odlsim: no loan with this checkout_id")

// ErrLoanEnded is returned by the admin actions for a loan that is no
// longer running.
var ErrLoanEnded = errors.New("odlsim: the loan has ended")

// Loans returns every loan, oldest first.
func (s *Sim) Loans() []Loan {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make(map[string]*loan, len(s.loans))
	for id, ln := range s.loans {
		all[id] = ln
	}
	var out []Loan
	for _, ln := range sortedLoans(all) {
		out = append(out, ln.snapshot())
	}
	return out
}

// Loan returns the loan made under checkoutID (on any licence: the first
// made, when several licences had one).
func (s *Sim) Loan(checkoutID string) (Loan, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, ok := s.byCheckout(checkoutID)
	if !ok {
		return Loan{}, false
	}
	return ln.snapshot(), true
}

// LoansOf counts the loans made under checkoutID, on every licence.
func (s *Sim) LoansOf(checkoutID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ln := range s.loans {
		if ln.checkoutID == checkoutID {
			n++
		}
	}
	return n
}

// byCheckout finds the oldest loan of checkoutID. Call with s.mu held.
func (s *Sim) byCheckout(checkoutID string) (*loan, bool) {
	var found *loan
	for _, ln := range s.loans {
		if ln.checkoutID == checkoutID && (found == nil || ln.start.Before(found.start)) {
			found = ln
		}
	}
	return found, found != nil
}

// Lent reports whether a loan was made under checkoutID (the kit's
// checkout effect).
func (s *Sim) Lent(checkoutID string) bool {
	_, ok := s.Loan(checkoutID)
	return ok
}

// Returned reports whether the loan of checkoutID was returned (or, ready,
// cancelled): the kit's return effect.
func (s *Sim) Returned(checkoutID string) bool {
	l, ok := s.Loan(checkoutID)
	return ok && (l.Status == StatusReturned || l.Status == StatusCancelled)
}

// Renewed reports whether the loan of checkoutID was renewed at least
// once: the kit's renew effect.
func (s *Sim) Renewed(checkoutID string) bool {
	l, ok := s.Loan(checkoutID)
	return ok && l.Renewals > 0
}

// License returns the checkouts left (-1: no limit) and the loans running
// on licence id.
func (s *Sim) License(id string) (left, running int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.licenses[id]
	if !ok {
		return 0, 0, false
	}
	s.sweepLicense(l, s.now())
	return l.left, len(l.active), true
}

// Revoke revokes the loan of checkoutID, as the distributor does when a
// licence is withdrawn, and notifies.
func (s *Sim) Revoke(checkoutID string) error {
	return s.admin(checkoutID, func(ln *loan) { s.end(ln, StatusRevoked, s.now(), true) })
}

// EndSilently returns the loan of checkoutID without notifying, as when a
// reader's app returned it and the distributor told no one: only the info
// documents and the LSD show it.
func (s *Sim) EndSilently(checkoutID string) error {
	return s.admin(checkoutID, func(ln *loan) {
		now := s.now()
		ln.end, ln.updatedLicense = now, now
		s.end(ln, StatusReturned, now, false)
	})
}

// Activate registers a device on the ready loan of checkoutID, as the
// patron's app does when it first opens the licence: the loan becomes
// active and the distributor notifies.
func (s *Sim) Activate(checkoutID string) error {
	return s.admin(checkoutID, func(ln *loan) { s.activate(ln, "odlsim-device", "odlsim reader") })
}

// admin runs act on the running loan of checkoutID.
func (s *Sim) admin(checkoutID string, act func(*loan)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, ok := s.byCheckout(checkoutID)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownLoan, checkoutID)
	}
	s.sweepLoan(ln, s.now())
	if !ln.running() {
		return fmt.Errorf("%w: %q is %s", ErrLoanEnded, checkoutID, ln.status)
	}
	act(ln)
	return nil
}

// Sweep expires every loan whose end has passed by the simulator's clock
// (requests do it for the loans they touch) and notifies.
func (s *Sim) Sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, ln := range s.loans {
		s.sweepLoan(ln, now)
	}
}

// Wait blocks until cond (called with no lock held) is true, re-checking
// it after every API request and every change of a loan, licence or
// notification, or until ctx ends.
func (s *Sim) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
