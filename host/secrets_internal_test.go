package host

import "testing"

// flipUnusedBits returns s with its last character changed so that only the
// unused low bits of the final base64 sextet differ: a lenient decoder reads
// the same bytes.
func flipUnusedBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := s[len(s)-1]
	i := 0
	for alphabet[i] != last {
		i++
	}
	return s[:len(s)-1] + string(alphabet[i^1])
}

// TestMACsHaveOneEncoding: a token or signature with one character changed
// is refused, also where the change only touches the unused bits of the
// last base64 character.
func TestMACsHaveOneEncoding(t *testing.T) {
	k := keys{secret: []byte("0123456789abcdef0123456789abcdef")}
	tok := k.notifyToken("dm", "ln_1")
	if _, ok := k.loanOfToken("dm", tok); !ok {
		t.Fatal("the token as issued is refused")
	}
	if _, ok := k.loanOfToken("dm", flipUnusedBits(tok)); ok {
		t.Errorf("token %q accepted with its last character changed", flipUnusedBits(tok))
	}
	sig := k.contentSig("dm", "ln_1", "epub", 1700000000)
	if !k.checkContentSig("dm", "ln_1", "epub", 1700000000, sig) {
		t.Fatal("the signature as issued is refused")
	}
	if k.checkContentSig("dm", "ln_1", "epub", 1700000000, flipUnusedBits(sig)) {
		t.Errorf("signature accepted with its last character changed")
	}
}

// The host's keys reuse pooled HMAC states (newKeys); every MAC must equal
// one made by a fresh state, also the second time a state is used.
func TestPooledMACsMatchFreshOnes(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	pooled, fresh := newKeys(secret), keys{secret: secret}
	for i := range 3 {
		loan := "ln_" + string(rune('a'+i))
		if got, want := pooled.notifyToken("dm", loan), fresh.notifyToken("dm", loan); got != want {
			t.Fatalf("token %d: pooled %q, fresh %q", i, got, want)
		}
		if got, want := pooled.contentSig("dm", loan, "epub", 1700000000), fresh.contentSig("dm", loan, "epub", 1700000000); got != want {
			t.Fatalf("signature %d: pooled %q, fresh %q", i, got, want)
		}
	}
}
