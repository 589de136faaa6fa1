package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

// fuzzInstance is an instance whose links may be plain http (as the
// seeds' are), never used to send anything.
func fuzzInstance() *instance {
	in := cannedInstance(200, nil, nil)
	in.allowInsecure = true
	return in
}

// FuzzParseFeedPage feeds the feed parser any page: it never panics, and
// every licence it keeps has an id, an absolute info document URL and a
// borrow link whose base is an absolute http(s) URL; the next page, if
// any, is one too.
func FuzzParseFeedPage(f *testing.F) {
	f.Add([]byte(`{"metadata":{"title":"x"},"links":[{"rel":"next","href":"/feed?page=2"}],"publications":[{"metadata":{"identifier":"urn:isbn:9780000000019"},"licenses":[{"metadata":{"identifier":"urn:uuid:1","format":"application/epub+zip","terms":{"checkouts":30,"expires":"2028-01-01T00:00:00Z","concurrency":10,"length":5097600}},"links":[{"rel":"http://opds-spec.org/acquisition/borrow","href":"/checkout{?id,checkout_id,expires,patron_id,notification_url}","templated":true,"type":"application/vnd.readium.license.status.v1.0+json"},{"rel":"self","href":"https://odl.test/info/1","type":"application/vnd.odl.info+json"}]}]}]}`))
	f.Add([]byte(`{"publications":[{"metadata":{"identifier":"urn:isbn:0-00-000001-X"},"licenses":[{"metadata":{"identifier":"l","terms":{"checkouts":"12","length":-1}},"links":[{"rel":["self"],"href":"javascript:alert(1)"},{"rel":"http://opds-spec.org/acquisition/borrow","href":"{+evil}/x"}]}]}]}`))
	f.Add([]byte(`{"publications":null,"links":[{"rel":"next","href":"http://[::1"}]}`))
	f.Add([]byte(`[]`))
	page, _ := url.Parse("https://odl.test/feed")
	in := fuzzInstance()
	f.Fuzz(func(t *testing.T, body []byte) {
		pubs, next, _, err := parseFeedPage(in, body, page)
		if err != nil {
			return
		}
		if next != nil && (next.Host == "" || (next.Scheme != "https" && next.Scheme != "http")) {
			t.Fatalf("next page %q", next)
		}
		for _, p := range pubs {
			if p.item == "" {
				t.Fatal("a publication without an item id")
			}
			for _, l := range p.licences {
				base, err := url.Parse(templateBase(l.borrow.Href))
				if l.id == "" || l.info == nil || l.info.Host == "" || err != nil || base.Host == "" {
					t.Fatalf("licence %+v", l)
				}
				_ = formatOf(l.format)
				_ = kind(l.terms)
			}
		}
	})
}

// FuzzParseLSD feeds the LSD parser any document: it never panics; what it
// accepts has an id and a status of LSD 1.0, and every link it keeps is
// an absolute http(s) URL; the links it hands to readers are too.
func FuzzParseLSD(f *testing.F) {
	f.Add([]byte(`{"id":"234-5435","status":"active","message":"m","updated":{"license":"2016-08-05T00:00:00Z","status":"2016-08-08T00:00:00Z"},"links":[{"rel":"license","href":"https://example.org/license/35d9b2d6","type":"application/vnd.readium.lcp.license.v1.0+json"},{"rel":"return","href":"https://example.org/license/35d9b2d6/return{?id,name}","templated":true},{"rel":"renew","href":"https://example.org/renew","type":"text/html"},{"rel":["renew"],"href":"/renew{?end,id,name}","type":"application/vnd.readium.license.status.v1.0+json","templated":true},{"rel":"manifest","href":"m.json","type":"application/audiobook+json"}],"potential_rights":{"end":"2014-09-13T00:00:00Z"}}`))
	f.Add([]byte(`{"id":"x","status":"returned"}`))
	f.Add([]byte(`{"id":"x","status":"borrowed","links":"none"}`))
	f.Add([]byte(`{"id":1,"status":null}`))
	base, _ := url.Parse("https://odl.test/loans/1/status")
	in := fuzzInstance()
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := parseLSD(in, body, base)
		if !ok {
			return
		}
		if d.id == "" || !validStatus(d.status) {
			t.Fatalf("accepted LSD %+v", d)
		}
		for _, l := range d.links {
			u, err := url.Parse(templateBase(l.Href))
			if err != nil || u.Host == "" {
				t.Fatalf("link %+v", l)
			}
		}
		for _, l := range d.accessLinks("epub") {
			if u, err := url.Parse(l.Href); err != nil || u.Host == "" || (l.Rel != sdk.RelContent && l.Rel != sdk.RelManifest) {
				t.Fatalf("access link %+v", l)
			}
		}
		if l, ok := d.apiLink("renew"); ok {
			if _, err := lsdLinkURL(l, map[string]string{"end": "2030-01-01T00:00:00Z", "name": returnName}); err != nil && !l.templated() {
				t.Fatalf("plain renew link %q does not parse", l.Href)
			}
		}
	})
}

func validStatus(s string) bool {
	for _, x := range lsdStatuses {
		if s == x {
			return true
		}
	}
	return false
}

// FuzzExpandLink expands any template with any value: it never panics;
// an expansion either fails or is a URL that parses, carries none of the
// value's reserved characters unescaped in its query (simple and query
// expansion) and reports the required variables the template has but the
// values lack.
func FuzzExpandLink(f *testing.F) {
	f.Add("https://odl.test/checkout{?id,checkout_id,expires,patron_id,passphrase,hint,hint_url,notification_url}", "ln_01J&x=y #é")
	f.Add("https://odl.test/c/{id}/x{?checkout_id}{&patron_id}", "a/b?c")
	f.Add("https://odl.test/{+id}{#frag}", "../../evil")
	f.Add("https://odl.test/checkout{?id", "v")
	f.Add("https://odl.test/checkout?fixed=1", "v")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		vars := map[string]string{"id": value, "checkout_id": value, "patron_id": "p", "notification_url": value}
		u, missing, has, err := expandLink(linkDoc{Href: tmpl, Templated: strings.Contains(tmpl, "{")}, vars)
		if err != nil {
			return
		}
		if u == nil || has == nil {
			t.Fatal("no URL and no error")
		}
		for _, m := range missing {
			if !has(m) || vars[m] != "" {
				t.Fatalf("missing %q reported wrongly", m)
			}
		}
		if strings.Contains(tmpl, "{?") && !strings.Contains(tmpl, "{+") && !strings.Contains(tmpl, "{#") {
			if strings.Contains(u.RawQuery, " ") {
				t.Fatalf("a space unescaped in %q", u.RawQuery)
			}
		}
	})
}

// FuzzHandleNotification feeds any body: never a panic, an event of a
// known type or an invalid_request.
func FuzzHandleNotification(f *testing.F) {
	f.Add([]byte(`{"id":"3c649cda","status":"returned"}`))
	f.Add([]byte(`{"id":"3c649cda","status":"active","message":"\u0000x","updated":{"status":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"id":["x"],"status":{}}`))
	p := newProvider()
	in := fuzzInstance()
	p.instances.Set("fuzz", in)
	known := map[string]bool{sdk.EventLoanReturned: true, sdk.EventLoanRevoked: true, sdk.EventLoanExpired: true, sdk.EventLoanActivated: true, sdk.EventLoanNotified: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := p.HandleNotification(context.Background(), sdk.Notification{Instance: "fuzz", Method: "POST", Body: body,
			Loan: sdk.LoanRef{ID: "ln", ProviderRef: map[string]string{refLSDID: "3c649cda"}}})
		if err != nil {
			if sdk.CodeOf(err) != sdk.CodeInvalidRequest {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !known[ev.Type] || ev.Data["lsd_id"] != "3c649cda" || len(ev.Data["message"]) > maxMessage {
			t.Fatalf("event %+v", ev)
		}
	})
}
