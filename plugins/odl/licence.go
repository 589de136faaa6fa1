package main

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// infoDoc is a License Info Document. Both field variants seen in the
// field are read: "patron_id" or "patron", and "left" or "active" left
// out when they do not apply.
type infoDoc struct {
	Identifier string `json:"identifier"`
	Status     string `json:"status"`
	Checkouts  struct {
		Left      json.RawMessage `json:"left"`
		Available json.RawMessage `json:"available"`
		Active    json.RawMessage `json:"active"`
	} `json:"checkouts"`
	Terms *termsDoc `json:"terms"`
}

// activeDoc is one loan of an info document's active list.
type activeDoc struct {
	ID       string `json:"id"`
	PatronID string `json:"patron_id"`
	Patron   string `json:"patron"`
	Expires  string `json:"expires"`
	Href     string `json:"href"`
}

// info is what a License Info Document says of a licence now.
type info struct {
	status string
	// left and available are sdk.Unlimited when absent.
	left, available int
	active          []activeDoc
	// terms are the document's, when it repeats them.
	terms *terms
}

// Licence statuses of info documents.
const (
	licenceAvailable   = "available"
	licenceUnavailable = "unavailable"
	licencePreorder    = "preorder"
)

// parseInfo reads a License Info Document. An unreadable one, or one
// without a status, is an error; a malformed active list is left out.
func parseInfo(body []byte) (info, bool) {
	var d infoDoc
	if json.Unmarshal(body, &d) != nil || d.Status == "" {
		return info{}, false
	}
	out := info{status: d.Status, left: count(d.Checkouts.Left), available: count(d.Checkouts.Available)}
	var active []activeDoc
	if json.Unmarshal(d.Checkouts.Active, &active) == nil {
		out.active = active
	}
	if d.Terms != nil {
		t := d.Terms.terms()
		out.terms = &t
	}
	return out, true
}

// readInfo GETs a licence's info document.
func (p *provider) readInfo(ctx context.Context, in *instance, l *licence) (info, *sdk.Error) {
	a, e := in.get(ctx, l.info, typeInfo, nil)
	if e != nil {
		return info{}, e
	}
	inf, ok := parseInfo(a.Body)
	if !ok {
		return info{}, sdk.Errorf(sdk.CodeProviderError, "the License Info Document of licence %q is unreadable", l.id).WithProviderCode(httpCode(a.Status))
	}
	return inf, nil
}

// candidate is a licence a checkout may try, with what its info document
// said (known false: it could not be read, and the borrow link decides).
type candidate struct {
	lic   *licence
	terms terms
	info  info
	known bool
	// holds: the licence may already hold this checkout (its info
	// document lists it, or this process sent it there last): it is asked
	// first, whatever its counts, and answers 303 if it does.
	holds bool
}

// candidates reads the info documents of lics and orders the licences a
// checkout may try (README.md "Licence choice"); a single licence is tried
// as it is. Those whose status is
// available, not expired, with a checkout left and a copy free, preferring
// time-limited, then perpetual, then time-and-count limited, then
// count-limited licences, ties to the earliest end, then the most
// checkouts left; licences whose info document could not be read come
// last, in feed order. A licence that may already hold checkoutID (a
// checkout sent again after its answer was lost) comes first, whatever
// its counts. why says, for a licence left out, why (for the error when
// none is left); firstErr is the first info document's error.
func (p *provider) candidates(ctx context.Context, in *instance, lics []*licence, checkoutID string) (out []candidate, why string, firstErr *sdk.Error) {
	now := p.now()
	var unknown, holding []candidate
	last, _ := in.placed.get(checkoutID)
	if len(lics) == 1 {
		// One licence: its borrow link says all its info document would
		// (unavailable, expired, or 303 for a checkout it holds) in the
		// one request, without reading an info document that lists every
		// loan running on it.
		c := candidate{lic: lics[0], terms: lics[0].terms, holds: lics[0].id == last}
		if expired(c.terms, now) && !c.holds {
			return nil, "its licence has expired", nil
		}
		return []candidate{c}, "", nil
	}
	for _, l := range lics {
		c := candidate{lic: l, terms: l.terms, holds: l.id == last}
		if expired(c.terms, now) && !c.holds {
			why = "its licence has expired"
			continue
		}
		inf, e := p.readInfo(ctx, in, l)
		if e != nil {
			if ctx.Err() != nil {
				return nil, "", e
			}
			if firstErr == nil {
				firstErr = e
			}
			if c.holds {
				holding = append(holding, c)
			} else {
				unknown = append(unknown, c)
			}
			continue
		}
		c.info, c.known = inf, true
		if inf.terms != nil {
			c.terms = *inf.terms
		}
		for _, a := range inf.active {
			if checkoutID != "" && a.ID == checkoutID {
				c.holds = true
			}
		}
		switch {
		case c.holds:
			holding = append(holding, c)
		case inf.status == licencePreorder:
			why = "it is in preorder"
		case inf.status != licenceAvailable:
			why = "its licence is " + inf.status
		case expired(c.terms, now):
			why = "its licence has expired"
		case inf.left == 0:
			why = "no checkout is left on its licence"
		case inf.available == 0:
			why = "every copy is lent"
		default:
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		if d := kind(a.terms) - kind(b.terms); d != 0 {
			return d
		}
		if d := compareEnds(a.terms.expires, b.terms.expires); d != 0 {
			return d
		}
		return compareLeft(b.info.left, a.info.left)
	})
	return append(append(holding, out...), unknown...), why, firstErr
}

// expired reports whether a licence's end has passed.
func expired(t terms, now time.Time) bool { return !t.expires.IsZero() && !now.Before(t.expires) }

// kind ranks a licence's terms in the order libraries prefer to spend
// them: time-limited (0), perpetual (1), time-and-count limited (2),
// count-limited (3).
func kind(t terms) int {
	timed, counted := !t.expires.IsZero(), t.checkouts != sdk.Unlimited
	switch {
	case timed && !counted:
		return 0
	case !timed && !counted:
		return 1
	case timed && counted:
		return 2
	}
	return 3
}

// compareEnds orders the earlier end first; no end comes last.
func compareEnds(a, b time.Time) int {
	switch {
	case a.Equal(b):
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	case a.Before(b):
		return -1
	}
	return 1
}

// compareLeft compares checkout counts, Unlimited the largest.
func compareLeft(a, b int) int {
	if a == b {
		return 0
	}
	if a == sdk.Unlimited {
		return 1
	}
	if b == sdk.Unlimited {
		return -1
	}
	return a - b
}
