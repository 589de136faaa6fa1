package demarquesim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

func TestDownloadErrors(t *testing.T) {
	const (
		user = demarquesim.DefaultUsername
		pass = demarquesim.DefaultPassword
		org  = demarquesim.DefaultOrganisation
		isbn = demarquesim.ISBNAvailable
	)
	tests := []struct {
		name       string
		path       string
		query      string
		user, pass string
		status     int
		code       string
	}{
		{"no credentials", downloadPath(org, "c1", "t1", isbn, "epub"), "?uname=Jane", "", "", 401, "access_denied"},
		{"wrong password", downloadPath(org, "c1", "t1", isbn, "epub"), "?uname=Jane", user, "nope", 401, "access_denied"},
		{"unknown organisation", downloadPath("999", "c1", "t1", isbn, "epub"), "?uname=Jane", user, pass, 404, "not_found"},
		{"empty transaction", downloadPath(org, "c1", "", isbn, "epub"), "?uname=Jane", user, pass, 400, "missing_transaction_id"},
		{"no uname", downloadPath(org, "c1", "t1", isbn, "epub"), "", user, pass, 400, "missing_uname"},
		{"bad customer", downloadPath(org, "c%201", "t1", isbn, "epub"), "?uname=Jane", user, pass, 400, "invalid_customer_id"},
		{"bad format", downloadPath(org, "c1", "t1", isbn, "docx"), "?uname=Jane", user, pass, 400, "invalid_format"},
		{"unknown publication", downloadPath(org, "c1", "t1", demarquesim.ISBNUnknown, "pdf"), "?uname=Jane", user, pass, 404, "publication_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, srv := start(t)
			a := getDownload(t, srv.URL, tt.path, tt.query, tt.user, tt.pass)
			if a.status != tt.status || a.Error != tt.code {
				t.Fatalf("got %d %q, want %d %q", a.status, a.Error, tt.status, tt.code)
			}
			if sim.CallsTo(demarquesim.EndpointDownload) != 1 {
				t.Fatalf("calls: %d", sim.CallsTo(demarquesim.EndpointDownload))
			}
		})
	}
}

func TestDownloadLinkExpiresAfterOneMinute(t *testing.T) {
	clk := newClock()
	_, srv := start(t, demarquesim.WithClock(clk.Now), demarquesim.WithCredentials("u", "p"), demarquesim.WithOrganisation("org-7"))
	a := getDownload(t, srv.URL, downloadPath("org-7", "cust_1", "tx-9", demarquesim.ISBNSecond, "pdf"), "?uname=Jane+Doe", "u", "p")
	if a.status != http.StatusOK || !strings.HasPrefix(a.URL, srv.URL+"/dl/") {
		t.Fatalf("download: %+v", a)
	}
	if st, body := getStatus(t, a.URL); st != http.StatusOK || !strings.Contains(body, "pdf") {
		t.Fatalf("fresh link: %d %q", st, body)
	}
	clk.Advance(DownloadAlmost)
	if st, _ := getStatus(t, a.URL); st != http.StatusOK {
		t.Fatalf("link at 59s: %d", st)
	}
	clk.Advance(time.Second)
	if st, _ := getStatus(t, a.URL); st != http.StatusGone {
		t.Fatalf("link at 60s: %d, want 410", st)
	}
	if st, _ := getStatus(t, srv.URL+"/dl/unknown"); st != http.StatusNotFound {
		t.Fatalf("unknown link: %d", st)
	}
}

// DownloadAlmost is one second short of the link's life.
const DownloadAlmost = demarquesim.DownloadValidity - time.Second
