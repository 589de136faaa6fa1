package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
	"github.com/lendgate/lendgate/sdk"
)

func TestDownload(t *testing.T) {
	e := newEnv(t)
	r := e.download()
	r.PatronName = "Jane Doe & Co"
	f, err := e.p.Download(context.Background(), r)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if len(f.Links) != 1 {
		t.Fatalf("links: %+v", f.Links)
	}
	l := f.Links[0]
	if l.Format != "pdf" || l.Rel != "content" || !strings.HasPrefix(l.Href, e.srv.URL+"/dl/") || !l.ExpiresAt.Equal(e.clock.Now().Add(time.Minute)) {
		t.Fatalf("link: %+v", l)
	}
	req := e.sim.Requests()[0]
	wantPath := "/api/organisations/123/customers/cust_42/transactions/basket-7/publications/" + demarquesim.ISBNSecond + "/download_links/pdf"
	if req.Endpoint != demarquesim.EndpointDownload || req.Path != wantPath || req.Form.Get("uname") != "Jane Doe & Co" {
		t.Fatalf("request: %+v", req)
	}

	// The link really lives one minute.
	get := func() int {
		resp, err := http.Get(l.Href)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("fresh link: %d", st)
	}
	e.clock.Advance(time.Minute)
	if st := get(); st != http.StatusGone {
		t.Fatalf("link after a minute: %d", st)
	}
}

func TestDownloadAcceptsISBN10AndEscapesSegments(t *testing.T) {
	e := newEnv(t)
	r := e.download()
	r.Item = "0-306-40615-2" // ISBN-10 of ISBNThird
	r.Transaction = "basket 7/b"
	if _, err := e.p.Download(context.Background(), r); err != nil {
		t.Fatalf("Download: %v", err)
	}
	req := e.sim.Requests()[0]
	if !strings.Contains(req.Path, "/transactions/basket 7/b/publications/"+demarquesim.ISBNThird+"/") {
		t.Fatalf("path: %q", req.Path)
	}
}

func TestDownloadValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *sdk.DownloadRequest)
		format string
	}{
		{"format docx", func(r *sdk.DownloadRequest) { r.Format = "docx" }, "docx"},
		{"format missing", func(r *sdk.DownloadRequest) { r.Format = "" }, ""},
		{"customer with space", func(r *sdk.DownloadRequest) { r.Customer = "cust 42" }, "pdf"},
		{"customer with slash", func(r *sdk.DownloadRequest) { r.Customer = "../x" }, "pdf"},
		{"customer missing", func(r *sdk.DownloadRequest) { r.Customer = "" }, "pdf"},
		{"transaction missing", func(r *sdk.DownloadRequest) { r.Transaction = "" }, "pdf"},
		{"transaction dot-dot", func(r *sdk.DownloadRequest) { r.Transaction = ".." }, "pdf"},
		{"bad check digit", func(r *sdk.DownloadRequest) { r.Item = "9782924253064"; r.Format = "mobi" }, "mobi"},
		{"item missing", func(r *sdk.DownloadRequest) { r.Item = "" }, "pdf"},
		{"patron name missing", func(r *sdk.DownloadRequest) { r.PatronName = "" }, "pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.download()
			tt.change(&r)
			_, err := e.p.Download(context.Background(), r)
			wantError(t, err, sdk.CodeInvalidRequest, "", tt.format)
			if e.sim.Calls() != 0 {
				t.Fatalf("refused locally, yet the warehouse was called")
			}
		})
	}
}

// TestDownloadCustomerRule: the customer_id rule is the warehouse's, so the
// plugin, not the host, refuses what the rule excludes (the host checks only
// presence and size), before any call.
func TestDownloadCustomerRule(t *testing.T) {
	tests := []struct {
		customer string
		ok       bool
	}{
		{"cust-1", true},
		{"Cust_42", true},
		{strings.Repeat("c", 255), true},
		{"a b", false},
		{"client-é", false},
		{"tab\tbed", false},
		{"a.b", false},
		{"a/b", false},
		{strings.Repeat("c", 256), false},
	}
	for _, tt := range tests {
		t.Run(tt.customer[:min(len(tt.customer), 12)], func(t *testing.T) {
			e := newEnv(t)
			r := e.download()
			r.Customer = tt.customer
			_, err := e.p.Download(context.Background(), r)
			if tt.ok {
				if err != nil {
					t.Fatalf("Download: %v", err)
				}
				return
			}
			wantError(t, err, sdk.CodeInvalidRequest, "", r.Format)
			if e.sim.Calls() != 0 {
				t.Fatalf("refused locally, yet the warehouse was called")
			}
		})
	}
}
