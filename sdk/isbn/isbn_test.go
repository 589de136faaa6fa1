package isbn

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"9789084999813", "9789084999813", true},
		{"978-90-8499-981-3", "9789084999813", true},
		{"9999999999994", "9999999999994", true},
		{"9999999999999", "", false}, // the CB seed's example: wrong check digit
		{"9789084999812", "", false},
		{"0306406152", "9780306406157", true},
		{"0-306-40615-2", "9780306406157", true},
		{"0306406153", "", false},
		{"080442957X", "9780804429573", true},
		{"080442957x", "9780804429573", true},
		{"97890849998", "", false},
		{"97890849998a3", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
}

func FuzzISBN(f *testing.F) {
	for _, s := range []string{"9789084999813", "0306406152", "080442957X", "9999999999999", "", "978-90", "xxxxxxxxxx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !Valid(got) {
			t.Fatalf("Normalize(%q) = %q, which is not a valid ISBN-13", s, got)
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
