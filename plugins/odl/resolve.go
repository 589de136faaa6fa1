package main

import (
	"context"
	"sync"

	"github.com/lendgate/lendgate/sdk"
)

// Resolve finds out whether a checkout whose answer the host never got
// placed the loan. ODL makes asking safe: a borrow link POSTed again with
// the same licence and checkout_id answers 303 to the loan made before,
// and a licence that holds no such checkout answers as to a new one. In
// turn:
//
//  1. the licence this process last POSTed that checkout to (the one whose
//     answer was lost): a loan (201 or 303) is placed; checkout/unavailable
//     or checkout/expired means that licence holds none, and the licences
//     tried before it had refused: not placed;
//  2. the info documents' active lists: a loan listed under the checkout
//     id (servers that list checkout ids) is placed, read from its LSD;
//  3. every licence of the item again, available ones first in the
//     checkout's order: the first loan (201 or 303) is placed; refusals
//     from all of them: not placed.
//
// Step 3 places the loan if the first POST never reached the distributor,
// which is what the checkout asked for. Decisions where the contract is
// silent: after a plugin restart (step 1 forgotten), with a server that
// lists its own ids rather than checkout ids (step 2 blind), a licence that
// refused the first attempt and has a copy free now could lend a second
// loan beside one the first attempt made on a later licence; README.md
// "Assumed" says so.
func (p *provider) Resolve(ctx context.Context, r sdk.ResolveRequest) (res sdk.Resolution, err error) {
	defer func() {
		p.logger().Debug("resolve", "instance", r.Instance, "loan", r.Loan.ID, "placed", res.Placed, "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.Resolution{}, err
	}
	o := order{instance: r.Instance, loanID: r.Loan.ID, item: r.Loan.Item, patron: r.Loan.Patron, format: r.Loan.Format,
		days: r.Days, notifyURL: r.NotifyURL, options: r.Loan.Options}
	if e := o.validate(); e != nil {
		return sdk.Resolution{}, e
	}
	pub, err := p.publication(ctx, in, o.item)
	if err != nil {
		return sdk.Resolution{}, err
	}
	lics, e := inFormat(pub, o.format)
	if e != nil {
		return sdk.Resolution{}, e
	}

	// 1. The licence whose answer was lost.
	if id, ok := in.placed.get(o.loanID); ok {
		for _, l := range lics {
			if l.id == id {
				return p.settle(p.borrow(ctx, in, o, []candidate{{lic: l, terms: l.terms}}))
			}
		}
	}

	// 2. The active lists.
	for _, l := range lics {
		inf, e := p.readInfo(ctx, in, l)
		if e != nil {
			continue
		}
		for _, a := range inf.active {
			if a.ID != o.loanID {
				continue
			}
			u, ok := in.link(a.Href, l.info)
			if !ok {
				continue
			}
			d, e := p.readLSD(ctx, in, u)
			if e != nil {
				return sdk.Resolution{}, e
			}
			loan, e := p.loanFrom(ctx, in, d, l, o.loanID, parseTime(a.Expires))
			if e != nil {
				return sdk.Resolution{}, e
			}
			return sdk.Resolution{Placed: true, Loan: loan}, nil
		}
	}

	// 3. Every licence again.
	cands, _, _ := p.candidates(ctx, in, lics, o.loanID)
	if ctx.Err() != nil {
		return sdk.Resolution{}, notSent(ctx)
	}
	tried := map[string]bool{}
	for _, c := range cands {
		tried[c.lic.id] = true
	}
	for _, l := range lics {
		if !tried[l.id] {
			cands = append(cands, candidate{lic: l, terms: l.terms})
		}
	}
	return p.settle(p.borrow(ctx, in, o, cands))
}

// settle is the resolution of a borrow: a loan is placed; refusals from
// every licence asked (checkout/unavailable, checkout/expired) mean none
// holds the checkout, since a licence that does answers 303 first; any
// other failure means the plugin cannot tell now.
func (p *provider) settle(loan sdk.Loan, placed bool, e *sdk.Error) (sdk.Resolution, error) {
	switch {
	case placed:
		return sdk.Resolution{Placed: true, Loan: loan}, nil
	case e != nil && (e.ProviderCode == typeUnavailable || e.ProviderCode == typeExpired):
		return sdk.Resolution{Placed: false}, nil
	case e != nil:
		return sdk.Resolution{}, e
	}
	return sdk.Resolution{}, sdk.Errorf(sdk.CodeProviderError, "the checkout's outcome cannot be told now")
}

// maxPlaced bounds how many checkouts an instance remembers the licence
// of.
const maxPlaced = 4096

// placedLicences remembers, for the last maxPlaced checkouts, the licence
// each was last POSTed to, so that Resolve asks that licence first. It is
// lost when the plugin restarts; Resolve then asks the distributor.
type placedLicences struct {
	mu    sync.Mutex
	byID  map[string]string
	order []string // oldest first
}

func newPlacedLicences() *placedLicences { return &placedLicences{byID: map[string]string{}} }

func (pl *placedLicences) remember(checkoutID, licenceID string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if _, ok := pl.byID[checkoutID]; !ok {
		pl.order = append(pl.order, checkoutID)
	}
	pl.byID[checkoutID] = licenceID
	for len(pl.order) > maxPlaced {
		delete(pl.byID, pl.order[0])
		pl.order = pl.order[1:]
	}
}

func (pl *placedLicences) get(checkoutID string) (string, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	id, ok := pl.byID[checkoutID]
	return id, ok
}
