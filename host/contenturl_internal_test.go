package host

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

// contentURL writes its query by hand; it must be what url.Values.Encode
// writes, whatever the format holds.
func TestContentURLAsValuesEncode(t *testing.T) {
	h := &Host{publicURL: "https://lend.example/base", keys: newKeys([]byte("0123456789abcdef0123456789abcdef"))}
	exp := time.Unix(1700000000, 0)
	for _, c := range []struct{ provider, loan, format string }{
		{"dm", "ln_01JABC", "epub"},
		{"dm-2", "ln_1", ""},
		{"cb", "ln/x y", "a b&c=d+e%f/é"},
	} {
		sig := h.keys.contentSig(c.provider, c.loan, c.format, exp.Unix())
		q := url.Values{"format": {c.format}, "exp": {strconv.FormatInt(exp.Unix(), 10)}, "sig": {sig}}
		want := h.publicURL + "/v1/providers/" + url.PathEscape(c.provider) + "/loans/" + url.PathEscape(c.loan) + "/content?" + q.Encode()
		if got := h.contentURL(c.provider, c.loan, c.format, exp); got != want {
			t.Errorf("contentURL(%q, %q, %q)\n got %s\nwant %s", c.provider, c.loan, c.format, got, want)
		}
	}
}
