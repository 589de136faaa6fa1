package providerv1

import (
	"time"
	"unicode/utf8"
)

// How both halves of the wire encode what protobuf does not say itself.
// Times travel as Unix milliseconds, 0 being the zero time.

// ToMillis encodes t for the wire.
func ToMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis decodes a wire time, in UTC.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// CapText cuts s to at most n bytes, on a rune boundary, marking the cut.
func CapText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
