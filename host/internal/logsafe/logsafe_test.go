package logsafe

import (
	"testing"

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
