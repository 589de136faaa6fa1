package sdktest

import (
	"sync/atomic"
	"testing"
	"time"
)

// currentCheck is the name of the check running now (t.Name() of its
// subtest), for reports that outlive it: a simulator handler left running,
// an answer that was not an *sdk.Error. Checks run one after the other, so
// one value is enough; a test that runs the kit twice in parallel gets
// mixed names in those reports, nothing worse.
var currentCheck atomic.Pointer[string]

// setCheck records t as the running check.
func setCheck(t *testing.T) {
	name := t.Name()
	currentCheck.Store(&name)
}

// checkName is the running check's name ("" before the first).
func checkName() string {
	if p := currentCheck.Load(); p != nil {
		return *p
	}
	return ""
}

// sub is t.Run that records the running check.
func (k *kit) sub(t *testing.T, name string, fn func(t *testing.T)) bool {
	return t.Run(name, func(t *testing.T) {
		setCheck(t)
		fn(t)
	})
}

// bound runs fn, a callback of the author's, for at most CheckTimeout, and
// reports false when it did not return in time: the check fails, naming
// what hung, and fn is left running rather than holding the whole run (a
// callback that ignores its ctx, or a simulator that sleeps without
// watching the request's context, would otherwise cost its full sleep). A
// panic in fn is raised again on the test's goroutine.
func (k *kit) bound(t *testing.T, what string, fn func()) bool {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		fn()
	}()
	timer := time.NewTimer(k.c.CheckTimeout)
	defer timer.Stop()
	select {
	case p := <-done:
		if p != nil {
			panic(p)
		}
		return true
	case <-timer.C:
		t.Errorf("%s: %s did not return within %s (Config.CheckTimeout) and is left running: pass the call's ctx on to the plugin, "+
			"and let the simulator answer when its request's context ends (sdktest.Simulator reads the body first, so that it can)",
			t.Name(), what, k.c.CheckTimeout)
		return false
	}
}
