package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

func testProvider(buf *bytes.Buffer) *provider {
	p := newProvider()
	p.log = hclog.New(&hclog.LoggerOptions{Output: buf, Level: hclog.Trace})
	return p
}

// corpusBody reads the body of a committed fuzz corpus entry, so the seed's
// example answer lives in one place.
func corpusBody(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/fuzz/FuzzParseCheckout/" + name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[len(lines)-1], "[]byte("), ")")
	body, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("corpus entry %s: %v", name, err)
	}
	return []byte(body)
}

func TestParseSeedExampleAnswer(t *testing.T) {
	var buf bytes.Buffer
	p := testProvider(&buf)
	loan, err := p.parseCheckout(sdk.Answer{Status: 201, Body: corpusBody(t, "seed-example-answer")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if loan.ProviderRef["checkout_id"] != "checkoutId" {
		t.Errorf("provider_ref %v", loan.ProviderRef)
	}
	if want := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC); !loan.ExpiresAt.Equal(want) {
		t.Errorf("expires %v", loan.ExpiresAt)
	}
	if len(loan.Links) != 12 || loan.Format != "audio-downloadable" {
		t.Errorf("format %q, %d links", loan.Format, len(loan.Links))
	}
	var names []string
	for _, l := range loan.Links {
		if l.Format == "ebook" && l.Rel == "supplement" {
			names = append(names, l.Name)
		}
	}
	if strings.Join(names, ",") != "supplement_0,supplement_1" {
		t.Errorf("ebook supplement names %v", names)
	}
	if n := strings.Count(buf.String(), "[WARN]"); n != 12 {
		t.Errorf("%d warnings, want one per malformed link:\n%s", n, buf.String())
	}
}

// The seed's schema block (placeholder strings, a trailing comma) is not an
// answer: a provider_error, not a panic.
func TestParseSeedSchemaIsUnreadable(t *testing.T) {
	var buf bytes.Buffer
	_, err := testProvider(&buf).parseCheckout(sdk.Answer{Status: 201, Body: corpusBody(t, "seed-schema-not-json")}, "")
	wantCode(t, err, "provider_error", "")
}

func TestExpiry(t *testing.T) {
	utc := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		warn bool
	}{
		{"2016-01-01T00:00:00Z", utc(2016, 1, 1, 0), false},
		{"2016-01-01T02:00:00+02:00", utc(2016, 1, 1, 0), false},
		{"2016-01-01T02:00:00.123+0200", time.Date(2016, 1, 1, 0, 0, 0, 123e6, time.UTC), false},
		{"2016-01-01T05:00:00", utc(2016, 1, 1, 5), false},
		{"2016-01-01", utc(2016, 1, 1, 0), false},
		{"next tuesday", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		got := testProvider(&buf).expiry(checkoutAnswer{ID: "c", ExpirationDate: tt.in})
		if !got.Equal(tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
		}
		if warned := strings.Contains(buf.String(), "[WARN]"); warned != tt.warn {
			t.Errorf("%q: warned %v, want %v", tt.in, warned, tt.warn)
		}
	}
}

func TestCheckHref(t *testing.T) {
	tests := []struct {
		href, logged, hidden string
	}{
		{"https://ok.example/x?sig=1", "", ""},
		{"http:/localhost:16521/a?sig=abc", "http:/localhost:16521/a?sig=redacted", "abc"},
		{"not a url::%zz?token=s3cret", "not a url::%zz?…", "s3cret"},
		{"/relative?t=hidden#frag", "/relative?t=redacted", "hidden"},
		{"", "href=", ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		testProvider(&buf).checkHref("c", "ebook", "content", tt.href)
		log := buf.String()
		if tt.logged == "" {
			if log != "" {
				t.Errorf("%q logged: %s", tt.href, log)
			}
			continue
		}
		if !strings.Contains(log, tt.logged) {
			t.Errorf("%q: log %q lacks %q", tt.href, log, tt.logged)
		}
		if tt.hidden != "" && strings.Contains(log, tt.hidden) {
			t.Errorf("%q: log shows %q: %s", tt.href, tt.hidden, log)
		}
	}
}
