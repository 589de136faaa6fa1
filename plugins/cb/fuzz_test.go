package main

import (
	"errors"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// FuzzParseAnswer feeds the answer parsers any status and body: they must
// never panic, and must give either a usable answer or an *sdk.Error with a
// unified code.
func FuzzParseAnswer(f *testing.F) {
	f.Add(200, []byte(`{"placeOrder":{"CbOrderReference":"1669231","EAN":"9789084999813","URL":"https://tstep2.eboekhuis.nl/wmDwld.php?uid=58403560d6961&ean=9789084999813&r=1"}}`))
	f.Add(200, []byte(`{"Message":{"MessageType":"E","MessageCode":"EBS-10003","MessageText":"A product with this EAN is not available."}}`))
	f.Add(200, []byte(`{"Access":{"Accessable":"Y"}}`))
	f.Add(500, []byte(`{"error":"down"}`))
	f.Add(429, []byte(``))
	f.Add(200, []byte("\x00\x1f<html>"))
	p, _ := newTestProvider()
	p.log = hclog.NewNullLogger()
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		l, err := cannedOrder(p, status, nil, body)
		if err != nil {
			checkErr(t, err)
		} else if u := l.ProviderRef[refURL]; l.ProviderRef[refCbOrderReference] == "" || (u != "" && !absoluteURL(u)) {
			// An order always has CB's reference; its URL is usable or
			// empty (the order stands without a link).
			t.Fatalf("order without reference, or with an unusable URL: %+v", l)
		}
		if _, err := cannedAccess(p, status, body, "pw"); err != nil {
			checkErr(t, err)
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) || !e.Code.Known() || e.RetryAfter < 0 {
		t.Fatalf("not a unified error: %#v", err)
	}
}
