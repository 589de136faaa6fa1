package host_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
)

// signFor computes the redirect signature of api.md §4 independently of the
// host's code.
func signFor(secret, provider, loan, format string, exp int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s|%s|%s|%d", provider, loan, format, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func mustInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}
