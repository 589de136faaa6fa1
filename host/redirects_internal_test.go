package host

import (
	"strconv"
	"testing"
	"time"
)

func TestRedirectCacheIsBounded(t *testing.T) {
	var c redirectCache
	now := time.Unix(1_000_000, 0)
	soon, later := now.Add(time.Minute), now.Add(10*time.Minute)
	for i := range maxRedirectEntries {
		exp := later
		if i%2 == 0 {
			exp = soon
		}
		if c.entry(strconv.Itoa(i), exp, now) == nil {
			t.Fatalf("entry %d refused below the bound", i)
		}
	}
	if c.entry("one more", later, now) != nil {
		t.Fatal("the cache grew past its bound while every URL was still valid")
	}
	if c.entry("0", soon, now) == nil {
		t.Fatal("a full cache lost a remembered URL")
	}
	// Once half the URLs have expired, their entries make room.
	if c.entry("one more", later, soon.Add(time.Second)) == nil {
		t.Fatal("a full cache did not drop the entries of expired URLs")
	}
	if n := len(c.entries); n != maxRedirectEntries/2+1 {
		t.Errorf("%d entries after the sweep, want %d", n, maxRedirectEntries/2+1)
	}
}
