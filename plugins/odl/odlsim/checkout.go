package odlsim

import (
	"net/http"
	"net/url"
	"sort"
	"time"
)

// Problem types the simulator answers (ODL 1.0 §5.4, LSD 1.0 §3).
const (
	TypeGeneric     = "http://opds-spec.org/odl/error"
	TypeUnavailable = "http://opds-spec.org/odl/error/checkout/unavailable"
	TypeExpired     = "http://opds-spec.org/odl/error/checkout/expired"
	// TypeCheckoutVariable is the prefix of the 400 problems about one
	// variable: …/checkout/id, …/checkout_id, …/patron_id, …/expires,
	// …/notification_url, …/passphrase, …/hint, …/hint_url.
	TypeCheckoutVariable = "http://opds-spec.org/odl/error/checkout/"

	TypeServer        = "http://readium.org/license-status-document/error/server"
	TypeReturn        = "http://readium.org/license-status-document/error/return"
	TypeReturnAlready = "http://readium.org/license-status-document/error/return/already"
	TypeReturnExpired = "http://readium.org/license-status-document/error/return/expired"
	TypeRenew         = "http://readium.org/license-status-document/error/renew"
	TypeRenewDate     = "http://readium.org/license-status-document/error/renew/date"
	TypeRegistration  = "http://readium.org/license-status-document/error/registration"
)

// LSD statuses.
const (
	StatusReady     = "ready"
	StatusActive    = "active"
	StatusRevoked   = "revoked"
	StatusReturned  = "returned"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
)

// Loan is a loan as the simulator holds it.
type Loan struct {
	// ID is the LSD's (and the LCP licence's) id.
	ID         string
	CheckoutID string
	LicenseID  string
	// Item is the publication's item id (ISBN-13 or identifier).
	Item   string
	Patron string
	Status string
	Start  time.Time
	// End is when the loan ends (the LCP licence's rights.end).
	End time.Time
	// PotentialEnd is the latest a renewal can reach (zero: none).
	PotentialEnd    time.Time
	NotificationURL string
	Passphrase      string
	Hint, HintURL   string
	Renewals        int
}

// loan is a Loan as the simulator keeps it.
type loan struct {
	id, checkoutID, patron, status string
	lic                            *license
	start, end, potentialEnd       time.Time
	notificationURL                string
	passphrase, hint, hintURL      string
	renewals                       int
	events                         []event
	updatedLicense, updatedStatus  time.Time
}

// event is an LSD event.
type event struct {
	Type      string `json:"type"`
	Name      string `json:"name,omitempty"`
	ID        string `json:"id,omitempty"`
	Timestamp string `json:"timestamp"`
}

func (ln *loan) snapshot() Loan {
	return Loan{ID: ln.id, CheckoutID: ln.checkoutID, LicenseID: ln.lic.ID, Item: itemOf(ln.lic.pub.identifier),
		Patron: ln.patron, Status: ln.status, Start: ln.start, End: ln.end, PotentialEnd: ln.potentialEnd,
		NotificationURL: ln.notificationURL, Passphrase: ln.passphrase, Hint: ln.hint, HintURL: ln.hintURL, Renewals: ln.renewals}
}

// running reports whether the loan holds a copy (ready or active).
func (ln *loan) running() bool { return ln.status == StatusReady || ln.status == StatusActive }

func key(licenseID, checkoutID string) string { return licenseID + "\x00" + checkoutID }

// expiresLayouts are the ISO 8601 forms accepted for expires and end.
var expiresLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range expiresLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// checkout is the borrow link: POST /checkout?id=…&checkout_id=…&…
func (s *Sim) checkout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	base := s.base(r)
	now := s.now()
	bad := func(variable, detail string) {
		writeProblem(w, http.StatusBadRequest, TypeCheckoutVariable+variable, "Incorrect or missing "+variable, detail)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.licenses[q.Get("id")]
	if !ok {
		bad("id", "no licence with this identifier")
		return
	}
	cid := q.Get("checkout_id")
	if cid == "" {
		bad("checkout_id", "checkout_id is required")
		return
	}
	if prev, ok := s.byKey[key(l.ID, cid)]; ok {
		// ODL §5.4: the same id and checkout_id again changes nothing.
		w.Header().Set("Location", s.statusURL(base, prev))
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	patron := q.Get("patron_id")
	if patron == "" {
		bad("patron_id", "patron_id is required")
		return
	}
	var end time.Time
	if !l.NoExpires {
		t, ok := parseTime(q.Get("expires"))
		switch {
		case !ok:
			bad("expires", "expires must be an ISO 8601 date and time")
			return
		case !t.After(now):
			bad("expires", "expires is not in the future")
			return
		case l.Length > 0 && t.After(now.Add(l.Length)):
			bad("expires", "expires is beyond the licence's longest loan")
			return
		case !l.Expires.IsZero() && t.After(l.Expires):
			bad("expires", "expires is beyond the licence's end")
			return
		}
		end = t
	}
	notify := q.Get("notification_url")
	if notify != "" && !absoluteURL(notify) {
		bad("notification_url", "notification_url is not an absolute URL")
		return
	}
	if l.Passphrase {
		for _, v := range []string{"passphrase", "hint", "hint_url"} {
			if q.Get(v) == "" {
				bad(v, v+" is required by this licence")
				return
			}
		}
		if !absoluteURL(q.Get("hint_url")) {
			bad("hint_url", "hint_url is not an absolute URL")
			return
		}
	}
	s.sweepLicense(l, now)
	switch {
	case l.Status == "preorder":
		writeProblem(w, s.unavailableStatus, TypeUnavailable, "Not available", "the licence is in preorder")
		return
	case !l.Expires.IsZero() && !now.Before(l.Expires):
		writeProblem(w, http.StatusForbidden, TypeExpired, "Licence expired", "the licence has expired")
		return
	case l.availableNow(now) == 0:
		writeProblem(w, s.unavailableStatus, TypeUnavailable, "Not available", "no copy of the licence is free, or no checkout is left")
		return
	}
	if end.IsZero() {
		length := l.Length
		if length == 0 {
			length = DefaultLoanLength
		}
		end = now.Add(length)
		if !l.Expires.IsZero() && end.After(l.Expires) {
			end = l.Expires
		}
	}
	ln := &loan{id: token(), checkoutID: cid, patron: patron, status: StatusActive, lic: l,
		start: now, end: end.UTC(), notificationURL: notify, updatedLicense: now, updatedStatus: now,
		passphrase: q.Get("passphrase"), hint: q.Get("hint"), hintURL: q.Get("hint_url")}
	if s.readyLoans {
		ln.status = StatusReady
	}
	ln.potentialEnd = potentialEnd(l, now)
	if l.left > 0 {
		l.left--
	}
	l.active[ln.id] = ln
	s.loans[ln.id] = ln
	s.byKey[key(l.ID, cid)] = ln
	s.signalLocked()
	s.writeLSD(w, http.StatusCreated, base, ln)
}

// potentialEnd is the latest end a loan started at start may reach: its
// licence's longest loan, within the licence's end; without either, three
// default loan lengths.
func potentialEnd(l *license, start time.Time) time.Time {
	var end time.Time
	switch {
	case l.Length > 0:
		end = start.Add(l.Length)
	case l.Expires.IsZero():
		end = start.Add(3 * DefaultLoanLength)
	}
	if !l.Expires.IsZero() && (end.IsZero() || end.After(l.Expires)) {
		end = l.Expires
	}
	return end.UTC()
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// sweepLicense ends the loans of l whose end has passed. Call with s.mu
// held.
func (s *Sim) sweepLicense(l *license, now time.Time) {
	for _, ln := range l.active {
		s.sweepLoan(ln, now)
	}
}

// sweepLoan expires ln if its end has passed, and notifies. Call with
// s.mu held.
func (s *Sim) sweepLoan(ln *loan, now time.Time) {
	if ln.running() && !now.Before(ln.end) {
		s.end(ln, StatusExpired, now, true)
	}
}

// end moves ln to status (an ended one), frees its copy and, with notify,
// queues the notification. Call with s.mu held.
func (s *Sim) end(ln *loan, status string, now time.Time, notify bool) {
	ln.status = status
	ln.updatedStatus = now
	delete(ln.lic.active, ln.id)
	s.signalLocked()
	if notify {
		s.notify(ln)
	}
}

func sortedLoans(m map[string]*loan) []*loan {
	out := make([]*loan, 0, len(m))
	for _, ln := range m {
		out = append(out, ln)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].start.Equal(out[j].start) {
			return out[i].start.Before(out[j].start)
		}
		return out[i].checkoutID < out[j].checkoutID
	})
	return out
}
