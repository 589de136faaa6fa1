package sdk

import (
	"sync"
	"testing"
)

func TestInstances(t *testing.T) {
	var s Instances[int]
	if _, err := s.Get("a"); CodeOf(err) != CodeProviderCredentials {
		t.Fatalf("unconfigured instance: %v, want provider_credentials", err)
	}
	if _, replaced := s.Set("a", 1); replaced {
		t.Error("first Set reported a replacement")
	}
	if old, replaced := s.Set("a", 2); !replaced || old != 1 {
		t.Errorf("second Set: old %d replaced %v", old, replaced)
	}
	if v, err := s.Get("a"); err != nil || v != 2 {
		t.Errorf("Get: %d %v", v, err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(2)
		go func() { defer wg.Done(); s.Set("b", i) }()
		go func() { defer wg.Done(); s.Get("b") }()
	}
	wg.Wait()
	if _, err := s.Get("b"); err != nil {
		t.Error(err)
	}
}
