package main

import (
	"context"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/sdk"
)

// Page bounds of Reconcile.
const (
	defaultReconcileLimit = 100
	maxReconcileLimit     = 1000
	// maxInfoPerPage bounds the info documents one page reads, so that a
	// feed of many licences with few loans still answers each page in
	// time (with fewer loans than asked for).
	maxInfoPerPage = 50
)

// Reconcile lists the loans the distributor holds for the instance's
// account: the active lists of its licences' info documents, licence by
// licence in identifier order. A held loan's LoanID is the list's id
// (servers that list the checkout_id the host sent; another id matches no
// loan of the host's, which then matches by ProviderRef), its ProviderRef
// the LSD's URL (refLSD) and the licence. The cursor names the licence and
// how many of its loans were listed.
func (p *provider) Reconcile(ctx context.Context, r sdk.ReconcileRequest) (page sdk.ReconcilePage, err error) {
	defer func() {
		p.logger().Debug("reconcile", "instance", r.Instance, "loans", len(page.Loans), "more", page.Next != "", "outcome", outcome(err))
	}()
	in, err := p.instances.Get(r.Instance)
	if err != nil {
		return sdk.ReconcilePage{}, err
	}
	limit := r.Limit
	if limit <= 0 {
		limit = defaultReconcileLimit
	}
	limit = min(limit, maxReconcileLimit)
	from, skip, ok := decodeCursor(r.Cursor)
	if !ok {
		return sdk.ReconcilePage{}, sdk.Errorf(sdk.CodeInvalidRequest, "reconcile: the cursor is not one this plugin made")
	}
	lics, err := in.index.licences(ctx, p.now(), in.refresh, p.readFeed(in))
	if err != nil {
		return sdk.ReconcilePage{}, err
	}
	i := sort.Search(len(lics), func(i int) bool { return lics[i].id >= from })
	if i < len(lics) && lics[i].id != from {
		skip = 0 // the cursor's licence is gone: start the next one whole
	}
	page.Loans = []sdk.HeldLoan{}
	for read := 0; i < len(lics); i, skip = i+1, 0 {
		if read == maxInfoPerPage || len(page.Loans) == limit {
			page.Next = encodeCursor(lics[i].id, 0)
			return page, nil
		}
		l := lics[i]
		inf, e := p.readInfo(ctx, in, l)
		if e != nil {
			return sdk.ReconcilePage{}, e
		}
		read++
		for j := skip; j < len(inf.active); j++ {
			if len(page.Loans) == limit {
				page.Next = encodeCursor(l.id, j)
				return page, nil
			}
			page.Loans = append(page.Loans, p.heldLoan(in, l, inf.active[j]))
		}
	}
	return page, nil
}

// heldLoan is one loan of an info document's active list.
func (p *provider) heldLoan(in *instance, l *licence, a activeDoc) sdk.HeldLoan {
	ref := map[string]string{refLicence: l.id}
	if u, ok := in.link(a.Href, l.info); ok {
		ref[refLSD] = u.String()
	}
	patron := a.PatronID
	if patron == "" {
		patron = a.Patron
	}
	return sdk.HeldLoan{LoanID: a.ID, ProviderRef: ref, Item: l.item, Patron: patron, ExpiresAt: parseTime(a.Expires)}
}

// encodeCursor and decodeCursor make the opaque cursor: the licence id and
// the number of its loans already listed.
func encodeCursor(licenceID string, skip int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(skip) + " " + licenceID))
}

func decodeCursor(c string) (licenceID string, skip int, ok bool) {
	if c == "" {
		return "", 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, false
	}
	n, id, found := strings.Cut(string(b), " ")
	skip, err = strconv.Atoi(n)
	if !found || err != nil || skip < 0 || id == "" {
		return "", 0, false
	}
	return id, skip, true
}
