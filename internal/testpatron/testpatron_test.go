package testpatron

import "testing"

func TestPseudonym(t *testing.T) {
	a := Pseudonym("secret", "cb-main", "patron-1")
	if len(a) != 32 {
		t.Fatalf("pseudonym %q is not 32 hex characters", a)
	}
	if a != Pseudonym("secret", "cb-main", "patron-1") {
		t.Fatal("not deterministic")
	}
	for _, other := range []string{
		Pseudonym("other", "cb-main", "patron-1"),
		Pseudonym("secret", "cb-other", "patron-1"),
		Pseudonym("secret", "cb-main", "patron-2"),
	} {
		if other == a {
			t.Fatal("a different secret, instance or patron gave the same pseudonym")
		}
	}
}
