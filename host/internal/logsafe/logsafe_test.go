package logsafe

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lendgate/lendgate/sdk"
)

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 4, "abcd…(12 bytes)"},
		// "é" is two bytes: a cut inside it steps back to its start.
		{"aéb", 2, "a…(4 bytes)"},
	}
	for _, tt := range tests {
		if got := Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestEcho(t *testing.T) {
	short := strings.Repeat("a", MaxText)
	if got := Echo(short); got != short {
		t.Errorf("Echo of %d bytes changed it: %q", MaxText, got)
	}
	for _, in := range []string{strings.Repeat("b", MaxText+1), strings.Repeat("é", 500<<10)} {
		got := Echo(in)
		if len(got) > MaxText || !utf8.ValidString(got) || !strings.HasSuffix(got, "…("+strconv.Itoa(len(in))+" bytes)") {
			t.Errorf("Echo of %d bytes: %d bytes, %q", len(in), len(got), got)
		}
		if !strings.HasPrefix(in, strings.TrimSuffix(got, "…("+strconv.Itoa(len(in))+" bytes)")) {
			t.Errorf("Echo of %d bytes does not keep its start: %q", len(in), got)
		}
	}
}

func TestCodeLabel(t *testing.T) {
	tests := map[sdk.Code]string{
		"":                       "ok",
		sdk.CodeNotAvailable:     "not_available",
		sdk.CodeCircuitOpen:      "circuit_open",
		"an_outsiders_invention": "provider_error",
	}
	for c, want := range tests {
		if got := CodeLabel(c); got != want {
			t.Errorf("CodeLabel(%q) = %q, want %q", c, got, want)
		}
	}
}
