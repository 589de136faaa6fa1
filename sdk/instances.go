package sdk

import "sync"

// Instances holds a plugin's per-instance state (settings, HTTP client):
// Configure sets it, every operation gets it. Safe for concurrent use; the
// zero value is ready.
type Instances[T any] struct {
	mu sync.RWMutex
	m  map[string]T
}

// Set stores v for instance and returns the value it replaces, if any (so
// that a reconfigured instance can release its old client).
func (s *Instances[T]) Set(instance string, v T) (old T, replaced bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]T{}
	}
	old, replaced = s.m[instance]
	s.m[instance] = v
	return old, replaced
}

// Get returns the state of instance, or a CodeProviderCredentials error when
// the host never configured it (a host bug or a plugin restarted without its
// configuration: either way, not the caller's fault).
func (s *Instances[T]) Get(instance string) (T, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[instance]
	if !ok {
		var zero T
		return zero, Errorf(CodeProviderCredentials, "instance %q is not configured", instance)
	}
	return v, nil
}
