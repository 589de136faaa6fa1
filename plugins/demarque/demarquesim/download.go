package demarquesim

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"regexp"
)

var customerPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// downloadLink serves the retail API's download_links call (seed 2.3).
func (s *Sim) downloadLink(w http.ResponseWriter, r *http.Request, org, customer, tx, isbn, format string) {
	user, pass, ok := r.BasicAuth()
	if !ok || !equal(user, s.username) || !equal(pass, s.password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="warehouse"`)
		writeError(w, http.StatusUnauthorized, "access_denied", "You do not have access to the resource.")
		return
	}
	uname := r.URL.Query().Get("uname")
	switch {
	case org != s.organisation:
		writeError(w, http.StatusNotFound, "not_found", "Your organisation could not be found.")
	case tx == "":
		writeError(w, http.StatusBadRequest, "missing_transaction_id", "You did not enter a transaction ID.")
	case uname == "":
		writeError(w, http.StatusBadRequest, "missing_uname", "uname is required")
	case !customerPattern.MatchString(customer):
		writeError(w, http.StatusBadRequest, "invalid_customer_id", "customer_id must be alphanumerical, - or _")
	case format != "pdf" && format != "epub" && format != "mobi":
		writeError(w, http.StatusBadRequest, "invalid_format", "format must be pdf, epub or mobi")
	case !s.catalogue[isbn]:
		writeError(w, http.StatusNotFound, "publication_not_found", "no publication with this ISBN")
	default:
		t := token()
		s.mu.Lock()
		s.downloads[t] = download{isbn: isbn, format: format, expires: s.now().Add(DownloadValidity)}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"url": s.base(r) + "/dl/" + t})
	}
}

// serveDownload serves GET /dl/{token}: the chronodegradable link.
func (s *Sim) serveDownload(w http.ResponseWriter, t string) {
	s.mu.Lock()
	d, ok := s.downloads[t]
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "not_found", "unknown link")
	case !s.now().Before(d.expires):
		writeError(w, http.StatusGone, "link_expired", "the download link expired")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "simulated %s download of %s\n", d.format, d.isbn)
	}
}

// equal compares in constant time, as a real server would.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
