package main

import (
	"context"
	"math"

	"github.com/lendgate/lendgate/sdk"
)

// Availability tells how many copies of r.Item the library owns and has
// free, from its licences' info documents (read afresh): owned is the sum
// over the licences it can still lend from (status available, not
// expired, a checkout left) of min(checkouts left, concurrency), available
// the sum of their available counts; sdk.Unlimited when a licence sets no
// limit. Every licence is listed, usable or not, with its terms.
func (p *provider) Availability(ctx context.Context, r sdk.AvailabilityRequest) (a sdk.Availability, err error) {
	defer func() {
		p.logger().Debug("availability", "instance", r.Instance, "item", r.Item, "owned", a.Owned, "available", a.Available, "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.Availability{}, err
	}
	pub, err := p.publication(ctx, in, r.Item)
	if err != nil {
		return sdk.Availability{}, err
	}
	now := p.now()
	for _, l := range pub.licences {
		inf, e := p.readInfo(ctx, in, l)
		if e != nil {
			return sdk.Availability{}, e
		}
		t := l.terms
		if inf.terms != nil {
			t = *inf.terms
		}
		lic := sdk.License{ID: l.id, Format: l.format, Status: inf.status, Checkouts: t.checkouts,
			Left: inf.left, Concurrency: t.concurrency, Available: inf.available, Expires: t.expires, Length: t.length}
		if t.checkouts == sdk.Unlimited {
			lic.Left = sdk.Unlimited
		}
		if lic.Available >= math.MaxInt32 || (lic.Left == sdk.Unlimited && t.concurrency == sdk.Unlimited) {
			lic.Available = sdk.Unlimited
		}
		usable := inf.status == licenceAvailable && !expired(t, now) && lic.Left != 0
		if !usable {
			lic.Available = 0
		} else {
			a.Owned = addCount(a.Owned, minCount(lic.Left, lic.Concurrency))
			a.Available = addCount(a.Available, lic.Available)
		}
		a.Licenses = append(a.Licenses, lic)
	}
	return a, nil
}

// addCount adds counts where sdk.Unlimited absorbs everything.
func addCount(a, b int) int {
	if a == sdk.Unlimited || b == sdk.Unlimited {
		return sdk.Unlimited
	}
	return a + b
}

// minCount is the smaller count, sdk.Unlimited the largest.
func minCount(a, b int) int {
	switch {
	case a == sdk.Unlimited:
		return b
	case b == sdk.Unlimited:
		return a
	}
	return min(a, b)
}
