// Command hostileplugin is a provider plugin for the host's tests of what
// it trusts a plugin with (api.md §7): steered by the checkout option "mode",
// it answers links of dangerous schemes ("schemes"), oversized links, refs
// and formats ("huge"), a content link the browser must never be sent to
// ("jscontent"), content links that expire in seconds ("shortlived"), and
// notifications with an invented event type and oversized
// data. Otherwise it answers plain https links whose query counts the
// Fulfill calls made for the loan (call=N), so tests can count distributor
// calls from outside.
package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

type hostile struct {
	sdk.Unimplemented
	mu    sync.Mutex
	calls map[string]int // Fulfill calls per loan
}

func (h *hostile) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name: "hostile", Version: "1.0.0",
		Capabilities: []sdk.Capability{sdk.CapCheckout, sdk.CapFulfill, sdk.CapReturn, sdk.CapNotifications},
		Formats:      []string{"epub"},
		Options:      map[string][]string{"mode": nil},
	}, nil
}

func (h *hostile) Configure(context.Context, string, map[string]string) error { return nil }
func (h *hostile) Health(context.Context, string) error                       { return nil }

// dangerous are hrefs a browser would run or read locally.
var dangerous = []string{
	"javascript:alert(document.cookie)",
	"data:text/html,<script>alert(1)</script>",
	"file:///etc/passwd",
	"  javascript:alert(2)",
	"java\tscript:alert(3)",
	"vbscript:msgbox(4)",
	"http://evil.example/\nSet-Cookie: x=1",
}

// SafeHrefs are the links of mode "schemes" the host must keep verbatim.
var safeHrefs = []string{"http:/localhost:8080/seed.epub", "https://content.example/ok", "HTTPS://content.example/upper"}

func (h *hostile) Checkout(_ context.Context, r sdk.CheckoutRequest) (sdk.Loan, error) {
	l := sdk.Loan{
		Format:      r.Format,
		ExpiresAt:   time.Now().Add(14 * 24 * time.Hour),
		Links:       []sdk.Link{{Format: r.Format, Rel: "content", Href: "https://content.example/" + r.LoanID}},
		ProviderRef: map[string]string{"notify_url": r.NotifyURL},
	}
	switch r.Options["mode"] {
	case "schemes":
		l.Links = nil
		for _, href := range append(append([]string{}, dangerous...), safeHrefs...) {
			l.Links = append(l.Links, sdk.Link{Format: r.Format, Rel: "content", Href: href})
		}
	case "huge":
		l.Format = strings.Repeat("f", 1<<10)
		l.Links = nil
		for i := range 100 {
			l.Links = append(l.Links, sdk.Link{Format: r.Format, Rel: "supplement", Href: fmt.Sprintf("https://content.example/%d", i), Name: "n"})
		}
		l.Links[0] = sdk.Link{Format: r.Format, Rel: "content", Href: "https://content.example/" + strings.Repeat("a", 1<<20)}
		l.Links[1].Name = strings.Repeat("N", 1<<20)
		for i := range 1000 {
			l.ProviderRef[fmt.Sprintf("k%04d", i)] = "v"
		}
		l.ProviderRef["big_value"] = strings.Repeat("v", 1<<20)
		l.ProviderRef[strings.Repeat("K", 1<<20)] = "v"
	}
	return l, nil
}

func (h *hostile) Fulfill(_ context.Context, r sdk.FulfillRequest) (sdk.Fulfillment, error) {
	if r.Loan.Options["mode"] == "jscontent" {
		return sdk.Fulfillment{Links: []sdk.Link{{Format: "epub", Rel: "content", Href: "javascript:alert(document.cookie)"}}}, nil
	}
	h.mu.Lock()
	h.calls[r.Loan.ID]++
	n := h.calls[r.Loan.ID]
	h.mu.Unlock()
	lifetime := time.Hour
	if r.Loan.Options["mode"] == "shortlived" {
		lifetime = 5 * time.Second // a link about to expire must not be handed out again
	}
	return sdk.Fulfillment{Links: []sdk.Link{{Format: "epub", Rel: "content", ExpiresAt: time.Now().Add(lifetime),
		Href: fmt.Sprintf("https://content.example/%s/epub?call=%d", r.Loan.ID, n)}}}, nil
}

func (h *hostile) Return(context.Context, sdk.ReturnRequest) (sdk.Loan, error) {
	return sdk.Loan{}, nil
}

func (h *hostile) HandleNotification(context.Context, sdk.Notification) (sdk.Event, error) {
	data := map[string]string{"big": strings.Repeat("d", 1<<20)}
	for i := range 1000 {
		data[fmt.Sprintf("d%04d", i)] = "x"
	}
	return sdk.Event{Type: "loan.pwned", Data: data}, nil
}

func main() {
	if err := sdk.Serve(&hostile{calls: map[string]int{}}); err != nil {
		log.Fatal(err)
	}
}
