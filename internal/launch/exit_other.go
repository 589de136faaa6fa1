//go:build !linux

package launch

// exitNotifier has no fast path outside Linux: the watch polls.
func exitNotifier(int) (<-chan struct{}, func()) { return nil, func() {} }
