package host

import (
	"context"
	"fmt"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// Renew extends a loan. When r.Patron is set it must be the loan's patron.
func (h *Host) Renew(ctx context.Context, provider, loanID string, r RenewRequest) (l Loan, err error) {
	l, _, err = h.renew(ctx, provider, loanID, r)
	return l, err
}

func (h *Host) renew(ctx context.Context, provider, loanID string, r RenewRequest) (l Loan, replayed bool, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "renew", loanID, start, err) }()
	if r.Days < 1 || r.Days > maxDays {
		return Loan{}, false, invalid("days must be between 1 and %d", maxDays)
	}
	if r.Patron != "" {
		if err := checkPatron(r.Patron); err != nil {
			return Loan{}, false, err
		}
	}
	fp := ""
	if r.IdempotencyKey != "" {
		fp = fingerprint("renew", provider, loanID, r)
	}
	in, err := h.instance(provider)
	if err != nil {
		return Loan{}, false, err
	}
	return idempotent(ctx, h, "renew/"+provider, r.IdempotencyKey, fp, in.lease(), func(c claim) (Loan, error) {
		if c.takeover {
			// An earlier renewal under this key may have reached the
			// distributor (CB: a paid addition); it is not sent again.
			return Loan{}, outcomeUnknownError(loanID, "an earlier renewal with this Idempotency-Key may have reached the distributor; nothing was sent again (check loan %s)", loanID)
		}
		in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapRenew)
		if err != nil {
			return Loan{}, err
		}
		if r.Patron != "" && r.Patron != rec.Loan.Patron {
			return Loan{}, sdk.Errorf(sdk.CodePatronMismatch, "loan %s belongs to another patron", loanID)
		}
		var got sdk.Loan
		sent := false
		err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
			sent = true
			var err error
			got, err = p.Renew(ctx, sdk.RenewRequest{Instance: in.name, Loan: loanRef(rec), Days: r.Days, RenewalID: c.ref})
			return err
		})
		if err != nil {
			if sent && outcomeUnknown(err) {
				return Loan{}, unknownAfter(loanID, err)
			}
			return Loan{}, err
		}
		rec.Loan = applyProviderLoan(rec.Loan, got)
		if err := retryWrite(context.WithoutCancel(ctx), func(ctx context.Context) error {
			_, _, err := h.apply(ctx, rec, sdk.EventLoanRenewed, map[string]string{"days": fmt.Sprint(r.Days)}, "renewed|"+provider+"|"+c.ref)
			return err
		}); err != nil {
			return Loan{}, unknownAfter(loanID, h.journalUnavailable(err, "journaling a renewal the distributor made", provider, loanID))
		}
		return rec.Loan, nil
	})
}

// applyProviderLoan takes what a distributor answered into the host's loan.
func applyProviderLoan(l Loan, got sdk.Loan) Loan {
	if !got.ExpiresAt.IsZero() {
		l.ExpiresAt = timePtr(got.ExpiresAt)
	}
	if len(got.Links) > 0 {
		l.Links = linksFromSDK(got.Links)
	}
	if len(got.ProviderRef) > 0 {
		ref := cloneMap(l.ProviderRef)
		if ref == nil {
			ref = map[string]string{}
		}
		for k, v := range got.ProviderRef {
			ref[k] = v
		}
		l.ProviderRef = ref
	}
	return l
}

// Return ends a loan early.
//
// A return carries no body; its Idempotency-Key rides the context
// (WithIdempotencyKey): a retried return with the key answers the first
// return's loan instead of not_available.
func (h *Host) Return(ctx context.Context, provider, loanID string) (l Loan, err error) {
	l, _, err = h.returnLoan(ctx, provider, loanID, IdempotencyKey(ctx))
	return l, err
}

type idemKeyCtx struct{}

// WithIdempotencyKey returns ctx carrying an Idempotency-Key for Return,
// which has no request body to carry one.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idemKeyCtx{}, key)
}

// IdempotencyKey returns the key WithIdempotencyKey put in ctx ("" if none).
func IdempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idemKeyCtx{}).(string)
	return k
}

func (h *Host) returnLoan(ctx context.Context, provider, loanID, key string) (l Loan, replayed bool, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "return", loanID, start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return Loan{}, false, err
	}
	fp := ""
	if key != "" {
		fp = fingerprint("return", provider, loanID)
	}
	return idempotent(ctx, h, "return/"+provider, key, fp, in.lease(), func(c claim) (Loan, error) {
		if c.takeover {
			return Loan{}, outcomeUnknownError(loanID, "an earlier return with this Idempotency-Key may have reached the distributor; nothing was sent again (check loan %s)", loanID)
		}
		return h.returnActive(ctx, provider, loanID)
	})
}

func (h *Host) returnActive(ctx context.Context, provider, loanID string) (Loan, error) {
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapReturn)
	if err != nil {
		return Loan{}, err
	}
	var got sdk.Loan
	sent := false
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		sent = true
		var err error
		got, err = p.Return(ctx, sdk.ReturnRequest{Instance: in.name, Loan: loanRef(rec)})
		return err
	})
	if err != nil {
		if sent && outcomeUnknown(err) {
			return Loan{}, unknownAfter(loanID, err)
		}
		return Loan{}, err
	}
	rec.Loan = applyProviderLoan(rec.Loan, got)
	rec.Loan.Status = StatusReturned
	if err := retryWrite(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, _, err := h.apply(ctx, rec, sdk.EventLoanReturned, nil, "returned|"+provider+"|"+loanID)
		return err
	}); err != nil {
		return Loan{}, unknownAfter(loanID, h.journalUnavailable(err, "journaling a return the distributor made", provider, loanID))
	}
	return rec.Loan, nil
}

// maxCustomerLen bounds a download's customer, like the other ids the host
// passes on. What a customer id may contain is the distributor's rule, and
// its plugin checks it.
const maxCustomerLen = 255

// Download returns a link for a purchased publication (De Marque 2.3). The
// link is short-lived: send the browser to it at once.
func (h *Host) Download(ctx context.Context, provider string, r DownloadRequest) (f Fulfillment, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "download", "", start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return Fulfillment{}, err
	}
	if err := in.requireCapability(sdk.CapDownload); err != nil {
		return Fulfillment{}, err
	}
	switch {
	case r.Customer == "":
		return Fulfillment{}, invalid("customer is required")
	case r.Transaction == "":
		return Fulfillment{}, invalid("transaction is required")
	case r.Format == "":
		return Fulfillment{}, invalid("format is required")
	case r.PatronName == "":
		return Fulfillment{}, invalid("patron_name is required")
	}
	if err := checkText("customer", r.Customer, maxCustomerLen); err != nil {
		return Fulfillment{}, err
	}
	for field, v := range map[string]string{"transaction": r.Transaction, "format": r.Format, "patron_name": r.PatronName} {
		if err := checkText(field, v, maxPatronNameLen); err != nil {
			return Fulfillment{}, err
		}
	}
	if r.Item, err = itemFor(in, r.Item); err != nil {
		return Fulfillment{}, err
	}
	if info, ok := in.info(); ok {
		if err := checkFormat(info, r.Format); err != nil {
			return Fulfillment{}, err
		}
	}
	var got sdk.Fulfillment
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		got, err = p.Download(ctx, sdk.DownloadRequest{Instance: in.name, Customer: r.Customer, Transaction: r.Transaction,
			Item: r.Item, Format: r.Format, PatronName: r.PatronName})
		return err
	})
	if err != nil {
		return Fulfillment{}, err
	}
	return Fulfillment{Links: linksFromSDK(got.Links)}, nil
}

// itemFor normalises an item for the instance's plugin (ISBN or record id).
func itemFor(in *instance, item string) (string, error) {
	info, ok := in.info()
	if !ok {
		// The plugin is down, so what an item id is cannot be known; the
		// call answers plugin_unavailable anyway.
		if item == "" {
			return "", invalid("item is required")
		}
		return item, nil
	}
	return normalizeItem(info, item)
}

// CheckAccess asks the distributor whether a patron has access to an item.
// The password goes to the plugin only; it is never logged or stored.
func (h *Host) CheckAccess(ctx context.Context, provider string, r AccessCheckRequest) (a AccessCheck, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "access_check", "", start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return AccessCheck{}, err
	}
	if err := in.requireCapability(sdk.CapAccessCheck); err != nil {
		return AccessCheck{}, err
	}
	if err := checkPatron(r.Patron); err != nil {
		return AccessCheck{}, err
	}
	if len(r.Password) > 1024 {
		return AccessCheck{}, invalid("password is too long")
	}
	if r.Item, err = itemFor(in, r.Item); err != nil {
		return AccessCheck{}, err
	}
	err = in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		a.Access, err = p.CheckAccess(ctx, sdk.AccessRequest{Instance: in.name, Item: r.Item, Patron: h.patronKey(in, r.Patron), Password: r.Password})
		return err
	})
	return a, err
}
