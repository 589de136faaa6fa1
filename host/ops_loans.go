package host

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/lendgate/lendgate/host/internal/resilience"
	"github.com/lendgate/lendgate/sdk"
	"github.com/oklog/ulid/v2"
)

// logCall writes the one log line per call of api.md §6 and records its
// metrics (resilience.Observer).
func (h *Host) logCall(provider, op, loan string, start time.Time, err error) {
	resilience.Observer{Log: h.log, Metrics: h.metrics, IsInstance: h.isInstance}.Done(provider, op, loan, start, err)
}

func newLoanID() string { return "ln_" + ulid.Make().String() }

// Checkout lends an item to a patron.
func (h *Host) Checkout(ctx context.Context, provider string, r CheckoutRequest) (Loan, error) {
	l, _, err := h.checkout(ctx, provider, r)
	return l, err
}

func (h *Host) checkout(ctx context.Context, provider string, r CheckoutRequest) (l Loan, replayed bool, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "checkout", firstNonEmpty(l.ID, loanOf(err)), start, err) }()
	in, err := h.instance(provider)
	if err != nil {
		return Loan{}, false, err
	}
	if err := in.requireCapability(sdk.CapCheckout); err != nil {
		return Loan{}, false, err
	}
	if err := checkPatron(r.Patron); err != nil {
		return Loan{}, false, err
	}
	if err := checkText("patron_name", r.PatronName, maxPatronNameLen); err != nil {
		return Loan{}, false, err
	}
	if err := checkDays(r.Days); err != nil {
		return Loan{}, false, err
	}
	item, err := itemFor(in, r.Item)
	if err != nil {
		return Loan{}, false, err
	}
	if info, up := in.info(); up {
		if err := checkFormat(info, r.Format); err != nil {
			return Loan{}, false, err
		}
		if err := checkOptions(info, r.Options); err != nil {
			return Loan{}, false, err
		}
	}
	if r.Format == "" {
		r.Format = in.cfg.Defaults.Format
	}
	if r.Days == 0 {
		r.Days = in.cfg.Defaults.Days
	}
	r.Item = item
	fp := "" // only a request with a key needs one
	if r.IdempotencyKey != "" {
		fp = fingerprint("checkout", provider, r)
	}
	scope := ""
	if r.IdempotencyKey != "" {
		scope = "checkout/" + provider
	}
	return idempotent(ctx, h, scope, r.IdempotencyKey, fp, in.lease(), func(c claim) (Loan, error) {
		return h.lend(ctx, in, r, c)
	})
}

// lend makes the distributor call of a checkout and journals the loan: as
// pending before the call (if that write fails, nothing is sent and the
// answer is journal_unavailable), so that a crash during it leaves a trace
// the sweeper turns into status unknown; as active, with its loan.created
// event, in one transaction after it (retried a few times; if it still
// fails, the answer is journal_unavailable naming the loan, and the sweeper
// surfaces it as unknown once the journal writes again).
//
// Under an Idempotency-Key, an earlier attempt may have reached the
// distributor (c.unknown, or the loan it journaled): the checkout is sent
// again under the same loan id only where the plugin declares that its
// distributor deduplicates by it; otherwise the answer is outcome_unknown
// and nothing is sent (api.md §7).
func (h *Host) lend(ctx context.Context, in *instance, r CheckoutRequest, c claim) (Loan, error) {
	id := c.ref
	now := time.Now().UTC()
	// A record under this id means an earlier attempt with the same
	// Idempotency-Key got this far (without a takeover the id is new:
	// nothing to look up).
	var prev LoanRecord
	retry := false
	if c.takeover {
		var perr error
		prev, perr = h.store.Loan(ctx, in.name, id)
		switch {
		case perr == nil:
			retry = true
		case !errors.Is(perr, ErrNotFound):
			return Loan{}, unknownAfter(id, h.journalUnavailable(perr, "reading the loan of an earlier attempt", in.name, id))
		}
	}
	if retry {
		switch prev.Loan.Status {
		case StatusActive:
			// It was placed: journaled before its answer was kept, or
			// resolved since.
			return prev.Loan, nil
		case StatusPending, StatusUnknown:
		default:
			// Resolved as never placed, or ended since: this key's
			// checkout is over.
			return Loan{}, &LoanError{Loan: id, Err: sdk.Errorf(sdk.CodeNotAvailable, "loan %s of this Idempotency-Key is %s", id, prev.Loan.Status)}
		}
	}
	mayHaveReached := retry || c.unknown
	if mayHaveReached {
		info, up := in.info()
		if !up {
			return Loan{}, unknownAfter(id, sdk.Errorf(sdk.CodePluginUnavailable, "plugin %s is not running; loan %s of this Idempotency-Key keeps its unknown outcome", in.plugin.name, id).WithRetryAfter(time.Second))
		}
		if !info.DedupesCheckout {
			if retry && prev.Loan.Status == StatusPending {
				prev.Loan.Status = StatusUnknown
				h.putLoanLogged(context.WithoutCancel(ctx), prev)
			}
			return Loan{}, outcomeUnknownError(id, "an earlier attempt with this Idempotency-Key may have placed loan %s and its distributor cannot tell a repeated order; nothing was sent again (the loan is listed with status unknown)", id)
		}
	}
	createdAt := now
	if retry {
		createdAt = prev.Loan.CreatedAt
	}
	patronKey := h.patronKey(in, r.Patron)
	rec := LoanRecord{Loan: Loan{ID: id, Provider: in.name, Item: r.Item, Patron: r.Patron, Status: StatusPending,
		Format: r.Format, CreatedAt: createdAt, Links: []Link{}}, PatronKey: patronKey, PatronName: r.PatronName, Options: r.Options, Days: r.Days}
	if err := h.store.PutLoan(ctx, rec); err != nil {
		jerr := h.journalUnavailable(err, "journaling the pending loan; nothing was sent to the distributor", in.name, id)
		if mayHaveReached {
			return Loan{}, unknownAfter(id, jerr)
		}
		return Loan{}, jerr
	}
	req := sdk.CheckoutRequest{Instance: in.name, LoanID: id, Item: r.Item, Patron: patronKey,
		PatronName: r.PatronName, Format: r.Format, Days: r.Days, Options: r.Options, NotifyURL: h.notifyURL(in, id)}
	var got sdk.Loan
	sent := false
	err := in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		sent = true
		var err error
		got, err = p.Checkout(ctx, req)
		return err
	})
	wctx := context.WithoutCancel(ctx) // the journal must follow what the distributor did
	if err != nil && mayHaveReached && sdk.CodeOf(err) == sdk.CodeDuplicateReference {
		// A distributor that deduplicates by the loan id saw this order
		// before (CB's EBS-10005): the first order stands. What it
		// answered then is lost; the loan carries what the host knows.
		err, got = nil, sdk.Loan{}
	}
	if err != nil {
		switch {
		case mayHaveReached || (sent && outcomeUnknown(err)):
			// The order may stand: the loan stays, as unknown, and so
			// does the key's claim.
			rec.Loan.Status = StatusUnknown
			h.putLoanLogged(wctx, rec)
			return Loan{}, unknownAfter(id, err)
		default:
			if derr := h.store.DeleteLoan(wctx, in.name, id); derr != nil {
				h.log.Error("removing refused pending loan failed", "provider", in.name, "loan", id, "error", derr)
			}
		}
		return Loan{}, err
	}
	rec.Loan = placedLoan(rec, got)
	if err := retryWrite(wctx, func(ctx context.Context) error {
		_, applied, err := h.apply(ctx, rec, sdk.EventLoanCreated, nil, "created|"+in.name+"|"+id)
		if err == nil && !applied {
			// The sweeper's resolution journaled the placement first (its
			// loan.resolved stands for loan.created); this write-ahead
			// may have turned the loan back to pending since.
			err = h.store.PutLoan(ctx, rec)
		}
		return err
	}); err != nil {
		// The order stands at the distributor but the journal cannot say
		// so with its event. Listed as unknown (if that write goes
		// through; else the sweeper turns the pending loan into unknown
		// once the journal writes again), it is resolved where the plugin
		// can, or left for the library to check.
		jerr := h.journalUnavailable(err, "journaling a loan the distributor placed; it is listed with status unknown", in.name, id)
		rec.Loan.Status = StatusUnknown
		h.putLoanLogged(wctx, rec)
		return Loan{}, unknownAfter(id, jerr)
	}
	return rec.Loan, nil
}

// placedLoan is rec made active with what the distributor answered. A loan
// whose distributor did not say when it ends (a first order that stands,
// answered without its data) ends Days after it was created.
func placedLoan(rec LoanRecord, got sdk.Loan) Loan {
	l := rec.Loan
	l.Status = StatusActive
	l.Format = firstNonEmpty(got.Format, l.Format)
	l.ExpiresAt = timePtr(got.ExpiresAt)
	if l.ExpiresAt == nil && rec.Days > 0 {
		l.ExpiresAt = timePtr(l.CreatedAt.Add(time.Duration(rec.Days) * 24 * time.Hour))
	}
	l.Links = linksFromSDK(got.Links)
	l.ProviderRef = got.ProviderRef
	return l
}

// notifyURL is the per-loan callback of api.md §5 ("" when the plugin takes
// none or the host has no public URL).
func (h *Host) notifyURL(in *instance, id string) string {
	if info, _ := in.info(); info.Has(sdk.CapNotifications) && h.publicURL != "" {
		return h.publicURL + "/v1/notifications/" + url.PathEscape(in.name) + "/" + h.keys.notifyToken(in.name, id)
	}
	return ""
}

func (h *Host) putLoanLogged(ctx context.Context, rec LoanRecord) {
	if err := retryWrite(ctx, func(ctx context.Context) error { return h.store.PutLoan(ctx, rec) }); err != nil {
		h.owed.add(rec)
		h.log.Error("journaling loan of unknown outcome failed; it is written as soon as the journal writes again", "provider", rec.Loan.Provider, "loan", rec.Loan.ID, "error", err)
	}
}

// outcomeUnknown reports whether a call that was sent may still have
// reached the distributor and taken effect: a timeout, a plugin that died or
// whose connection broke during it, a caller that gave up during it.
func outcomeUnknown(err error) bool {
	switch {
	case errors.Is(err, errPluginCrashed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	c := sdk.CodeOf(err)
	return c == sdk.CodeProviderTimeout || c == sdk.CodePluginUnavailable
}

func (h *Host) patronKey(in *instance, patron string) string {
	if in.cfg.SendPatronID {
		return patron
	}
	return in.patrons.pseudonym(patron)
}

// Loan returns a loan as the host knows it.
func (h *Host) Loan(ctx context.Context, provider, id string) (Loan, error) {
	rec, err := h.loanRecord(ctx, provider, id)
	return rec.Loan, err
}

func (h *Host) loanRecord(ctx context.Context, provider, id string) (LoanRecord, error) {
	if _, err := h.instance(provider); err != nil {
		return LoanRecord{}, err
	}
	rec, err := h.store.Loan(ctx, provider, id)
	if errors.Is(err, ErrNotFound) {
		return LoanRecord{}, sdk.Errorf(sdk.CodeLoanNotFound, "no loan %q at provider %s", id, provider)
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
	out := make([]Loan, len(recs))
	for i, r := range recs {
		out[i] = r.Loan
	}
	return out, nil
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
	out := make([]Loan, len(recs))
	for i, r := range recs {
		out[i] = r.Loan
	}
	return out, nil
}

func loanRef(rec LoanRecord) sdk.LoanRef {
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

// Fulfill returns fresh access links for a loan and a signed redirect URL.
func (h *Host) Fulfill(ctx context.Context, provider, loanID string, r FulfillRequest) (f Fulfillment, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "fulfill", loanID, start, err) }()
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapFulfill)
	if err != nil {
		return Fulfillment{}, err
	}
	if err := checkText("format", r.Format, 100); err != nil {
		return Fulfillment{}, err
	}
	links, err := h.fulfill(ctx, in, rec, r.Format)
	if err != nil {
		return Fulfillment{}, err
	}
	f = Fulfillment{Loan: loanID, Links: links}
	if h.publicURL != "" {
		f.Redirect = h.contentURL(provider, loanID, firstNonEmpty(r.Format, rec.Loan.Format), time.Now().Add(redirectLifetime))
	}
	return f, nil
}

func (h *Host) activeLoan(ctx context.Context, provider, loanID string, c sdk.Capability) (*instance, LoanRecord, error) {
	in, err := h.instance(provider)
	if err != nil {
		return nil, LoanRecord{}, err
	}
	if err := in.requireCapability(c); err != nil {
		return nil, LoanRecord{}, err
	}
	rec, err := h.loanRecord(ctx, provider, loanID)
	if err != nil {
		return nil, LoanRecord{}, err
	}
	return in, rec, requireActive(rec.Loan)
}

func (h *Host) fulfill(ctx context.Context, in *instance, rec LoanRecord, format string) ([]Link, error) {
	var got sdk.Fulfillment
	err := in.do(ctx, func(ctx context.Context, p sdk.Provider) error {
		var err error
		got, err = p.Fulfill(ctx, sdk.FulfillRequest{Instance: in.name, Loan: loanRef(rec), Format: format})
		return err
	})
	return linksFromSDK(got.Links), err
}

// redirectLifetime is how long a redirect URL handed out by Fulfill lives;
// api.md §4 accepts at most 15 minutes.
const (
	redirectLifetime = 10 * time.Minute
	maxRedirectAhead = 15 * time.Minute
)

func (h *Host) contentURL(provider, loan, format string, exp time.Time) string {
	e := exp.Unix()
	q := url.Values{"format": {format}, "exp": {strconv.FormatInt(e, 10)}, "sig": {h.keys.contentSig(provider, loan, format, e)}}
	return h.publicURL + "/v1/providers/" + url.PathEscape(provider) + "/loans/" + url.PathEscape(loan) + "/content?" + q.Encode()
}

// ContentLink checks a redirect's signature and expiry and returns a fresh
// link to send the browser to (api.md §4).
func (h *Host) ContentLink(ctx context.Context, provider, loanID, format, exp, sig string) (href string, err error) {
	start := time.Now()
	defer func() { h.logCall(provider, "content", loanID, start, err) }()
	e, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || sig == "" {
		return "", sdk.Errorf(sdk.CodeForbidden, "missing or malformed signature")
	}
	if !h.keys.checkContentSig(provider, loanID, format, e, sig) {
		return "", sdk.Errorf(sdk.CodeForbidden, "invalid signature")
	}
	now := time.Now()
	if t := time.Unix(e, 0); t.Before(now) || t.After(now.Add(maxRedirectAhead)) {
		return "", sdk.Errorf(sdk.CodeForbidden, "signature expired")
	}
	in, rec, err := h.activeLoan(ctx, provider, loanID, sdk.CapFulfill)
	if err != nil {
		return "", err
	}
	return h.contentHref(ctx, in, rec, format, e)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
