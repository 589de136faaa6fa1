package host

import (
	"context"
	"errors"
	"time"

	"github.com/lendgate/lendgate/host/internal/resilience"
	"github.com/lendgate/lendgate/sdk"
)

// errPluginCrashed marks the failure of a call that was in flight when its
// plugin process died.
var errPluginCrashed = errors.New("plugin process exited during the call")

// crashWait bounds how long a failed call waits to learn whether its plugin
// process died (the exit watch reports within microseconds on Linux).
const crashWait = 200 * time.Millisecond

// pluginEndpoint runs the call for instance on the plugin's current
// generation, waiting for a restarting plugin until the deadline: the
// innermost endpoint of an instance's resilience chain. An instance that
// does not serve on that generation answers its own error. The call gets
// the generation's provider as provide makes it (the instance's guard).
func pluginEndpoint(p *pluginProc, instance string, provide func(*generation) sdk.Provider) resilience.Endpoint {
	return func(ctx context.Context, c resilience.Call) error {
		g, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		defer g.release()
		if err := g.instanceFault(instance); err != nil {
			return err
		}
		err = c(ctx, provide(g))
		if sdk.CodeOf(err) == sdk.CodePluginUnavailable && !errors.Is(err, context.Canceled) {
			t := time.NewTimer(crashWait)
			defer t.Stop()
			select {
			case <-g.dead:
				return sdk.Wrap(sdk.CodePluginUnavailable, errPluginCrashed, "plugin %s stopped during the call; it is being restarted", p.name).WithRetryAfter(time.Second)
			case <-t.C:
			}
		}
		return err
	}
}

// notCounted marks the host's errors a breaker neither counts nor resets
// on: a call that was in flight when its plugin died (the restart logic's
// business), and an instance that does not serve (it asked nothing of the
// distributor).
func notCounted(err error) bool {
	return errors.Is(err, errPluginCrashed) || errors.Is(err, errInstanceFault)
}
