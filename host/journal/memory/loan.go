package memory

import (
	"slices"

	"github.com/lendgate/lendgate/host/journal"
)

// storedLoan is a loan as the store keeps it: a copy sharing nothing with
// the caller's, its provider_ref and options as pairs. A copied map of one
// entry costs some 300 bytes in two allocations, and every active loan has
// a provider_ref: kept as pairs it is one small slice, and a map is built
// only for a loan that is read back. A storedLoan is never changed once
// made (a write replaces it whole), so the store copies loans in and out
// outside its lock.
type storedLoan struct {
	loan       journal.Loan // ProviderRef and Options nil
	ref, opts  []pair
	refNil     bool // ProviderRef was nil, not empty
	optionsNil bool // Options was nil, not empty
}

type pair struct{ k, v string }

// store copies l for keeping.
func store(l journal.Loan) storedLoan {
	s := storedLoan{loan: l, ref: pairsOf(l.ProviderRef), opts: pairsOf(l.Options),
		refNil: l.ProviderRef == nil, optionsNil: l.Options == nil}
	s.loan.ProviderRef, s.loan.Options = nil, nil
	if l.Links != nil {
		s.loan.Links = slices.Clone(l.Links)
	}
	return s
}

// copy returns the kept loan as a journal.Loan of the caller's own.
func (s storedLoan) copy() journal.Loan {
	l := s.loan
	if l.Links != nil {
		l.Links = slices.Clone(l.Links)
	}
	l.ProviderRef = mapOf(s.ref, s.refNil)
	l.Options = mapOf(s.opts, s.optionsNil)
	return l
}

func pairsOf(m map[string]string) []pair {
	if len(m) == 0 {
		return nil
	}
	out := make([]pair, 0, len(m))
	for k, v := range m {
		out = append(out, pair{k, v})
	}
	return out
}

// mapOf is the map of ps: nil when the kept map was nil, else a map
// (empty for no pairs).
func mapOf(ps []pair, wasNil bool) map[string]string {
	if wasNil {
		return nil
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.k] = p.v
	}
	return m
}
