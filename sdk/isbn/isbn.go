// Package isbn validates and normalises the item identifiers that ISBN-based
// distributors take: ISBN-13 and EAN-13 (check digit verified) and ISBN-10
// (check digit verified, converted to ISBN-13 with the 978 prefix).
package isbn

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error Normalize returns.
var ErrInvalid = errors.New("invalid ISBN/EAN")

// Normalize returns s as a 13-digit ISBN/EAN. Hyphens and spaces are ignored;
// a 10-character ISBN (last character 0-9 or X) is converted to ISBN-13.
// The check digit is always verified.
func Normalize(s string) (string, error) {
	d := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
	switch len(d) {
	case 13:
		if !digits(d) {
			return "", fmt.Errorf("%w: %q has a character that is not a digit", ErrInvalid, s)
		}
		if want := check13(d[:12]); d[12] != want {
			return "", fmt.Errorf("%w: %q has check digit %c, expected %c", ErrInvalid, s, d[12], want)
		}
		return d, nil
	case 10:
		if !digits(d[:9]) || !(isDigit(d[9]) || d[9] == 'X' || d[9] == 'x') {
			return "", fmt.Errorf("%w: %q is not an ISBN-10", ErrInvalid, s)
		}
		if want := check10(d[:9]); upper(d[9]) != want {
			return "", fmt.Errorf("%w: %q has check digit %c, expected %c", ErrInvalid, s, d[9], want)
		}
		body := "978" + d[:9]
		return body + string(check13(body)), nil
	default:
		return "", fmt.Errorf("%w: %q must have 13 digits (or be an ISBN-10)", ErrInvalid, s)
	}
}

// Valid reports whether s is a 13-digit ISBN/EAN with a correct check digit.
func Valid(s string) bool {
	return len(s) == 13 && digits(s) && check13(s[:12]) == s[12]
}

func check13(first12 string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		n := int(first12[i] - '0')
		if i%2 == 1 {
			n *= 3
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}

func check10(first9 string) byte {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(first9[i]-'0') * (10 - i)
	}
	c := (11 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func upper(b byte) byte {
	if b == 'x' {
		return 'X'
	}
	return b
}
