package demarquesim

import (
	"fmt"
	"net/http"
	"time"
)

// ExpireAtLayout is the ISO 8601 basic form of expire_at, in UTC.
const ExpireAtLayout = "20060102T150405"

// MaxLoanAhead is how far ahead expire_at may be.
const MaxLoanAhead = 60 * 24 * time.Hour

// maxIDLen bounds borrower_id and transaction_id (seed: < 255 characters).
const maxIDLen = 255

// Loan is a loan the simulator made.
type Loan struct {
	// ID is the simulator's own loan id, sent as data.loan in notifications.
	ID           string
	ISBN         string
	Borrower     string
	Transaction  string
	NotifyURL    string
	ExpireAt     time.Time
	Medium       string
	Localisation string
	Duration     string
	IPAddress    string
	Created      time.Time
	// Links counts the access URLs issued: 1 at creation, one more per
	// regeneration.
	Links int
	// Regenerations counts the requests without expire_at that found this loan.
	Regenerations int
	Returned      bool
	// returnNotice is the "return" notification as first sent: a
	// redelivery sends these bytes again, as a retrying platform does.
	returnNotice []byte
}

// Loans returns a snapshot of every loan, in no particular order.
func (s *Sim) Loans() []Loan {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Loan, 0, len(s.loans))
	for _, l := range s.loans {
		out = append(out, *l)
	}
	return out
}

// Loan returns the loan with transaction_id tx.
func (s *Sim) Loan(tx string) (Loan, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.loans[tx]
	if !ok {
		return Loan{}, false
	}
	return *l, true
}

// lend serves POST /loans/{isbn}: a new loan with expire_at, a regenerated
// link without.
func (s *Sim) lend(w http.ResponseWriter, r *http.Request, isbn string) {
	f := r.PostForm
	borrower, tx := f.Get("borrower_id"), f.Get("transaction_id")
	medium, localisation := f.Get("medium"), f.Get("localisation")
	switch {
	case !s.catalogue[isbn]:
		writeError(w, http.StatusNotFound, "publication_not_found", "no publication with this ISBN")
		return
	case tx == "":
		writeError(w, http.StatusBadRequest, "missing_transaction_id", "transaction_id is required")
		return
	case borrower == "":
		writeError(w, http.StatusBadRequest, "missing_borrower_id", "borrower_id is required")
		return
	case len(tx) >= maxIDLen:
		writeError(w, http.StatusBadRequest, "invalid_transaction_id", "transaction_id must be under 255 characters")
		return
	case len(borrower) >= maxIDLen:
		writeError(w, http.StatusBadRequest, "invalid_borrower_id", "borrower_id must be under 255 characters")
		return
	case medium != "" && medium != "download" && medium != "streaming":
		writeError(w, http.StatusBadRequest, "invalid_medium", "medium must be download or streaming")
		return
	case localisation != "" && localisation != "on-site" && localisation != "off-site":
		writeError(w, http.StatusBadRequest, "invalid_localisation", "localisation must be on-site or off-site")
		return
	case medium == "streaming" && localisation == "":
		writeError(w, http.StatusBadRequest, "missing_localisation", "streaming requires localisation")
		return
	}

	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l, exists := s.loans[tx]

	if _, ok := f["expire_at"]; !ok {
		// Regeneration: the seed's lost-file recipe.
		if !exists || l.Borrower != borrower || l.ISBN != isbn || l.Returned || !now.Before(l.ExpireAt) {
			writeError(w, http.StatusNotFound, "loan_not_found", "no active loan for this borrower_id and transaction_id")
			return
		}
		l.Regenerations++
		s.issueContent(w, r, l)
		return
	}

	expire, err := time.ParseInLocation(ExpireAtLayout, f.Get("expire_at"), time.UTC)
	if err != nil || !expire.After(now) || expire.Sub(now) > MaxLoanAhead {
		writeError(w, http.StatusBadRequest, "invalid_expire_at", "expire_at must be YYYYMMDDTHHMMSS (UTC), in the future and at most 60 days ahead")
		return
	}
	if exists && (l.Borrower != borrower || l.ISBN != isbn) {
		writeError(w, http.StatusBadRequest, "transaction_id_in_use", "transaction_id is already used for another loan")
		return
	}
	if !exists {
		s.seq++
		l = &Loan{ID: fmt.Sprintf("L%06d", s.seq), ISBN: isbn, Borrower: borrower, Transaction: tx, Created: now}
		s.loans[tx] = l
	}
	// Repeating a creation updates the loan (a retried request is harmless).
	l.NotifyURL = f.Get("notify_url")
	l.ExpireAt = expire
	l.Medium, l.Localisation = medium, localisation
	l.Duration, l.IPAddress = f.Get("duration"), f.Get("ip_address")
	l.Returned = false
	l.returnNotice = nil
	s.issueContent(w, r, l)
}

// issueContent answers a fresh access URL for l. s.mu is held.
func (s *Sim) issueContent(w http.ResponseWriter, r *http.Request, l *Loan) {
	t := token()
	s.content[t] = l.ISBN
	l.Links++
	writeJSON(w, http.StatusOK, map[string]string{"url": s.base(r) + "/content/" + t})
}

// serveContent serves GET /content/{token}.
func (s *Sim) serveContent(w http.ResponseWriter, t string) {
	s.mu.Lock()
	isbn, ok := s.content[t]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "unknown link")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "simulated lent publication %s\n", isbn)
}
