package memory

import "github.com/lendgate/lendgate/host/journal"

// storedLoan is a loan as the store keeps it: a copy sharing nothing with
// the caller's (journal.Loan.Clone). It is never changed once made (a write
// replaces it whole), so the store copies loans in and out outside its
// lock.
type storedLoan struct{ loan journal.Loan }

// store copies l for keeping.
func store(l journal.Loan) storedLoan { return storedLoan{loan: l.Clone()} }

// copy returns the kept loan as a journal.Loan of the caller's own.
func (s storedLoan) copy() journal.Loan { return s.loan.Clone() }
