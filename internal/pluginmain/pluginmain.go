// Package pluginmain is what the mains of this module's provider plugins
// share: the connector's own logger and the call to sdk.Serve.
package pluginmain

import (
	stdlog "log"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// Run serves p, the provider of the plugin named name, after setting *log
// (the provider's own logger) to JSON lines, which the host's log reads, on
// stderr, which the host reads, named "plugin.<name>". The logger is made
// before Serve hands os.Stderr over to go-plugin, so it holds the real one.
// Run ends the process when Serve fails (a binary run by hand, go-plugin
// unable to serve).
func Run(name string, p sdk.Provider, log *hclog.Logger) {
	*log = hclog.New(&hclog.LoggerOptions{Name: "plugin." + name, Level: hclog.Trace, Output: os.Stderr, JSONFormat: true})
	if err := sdk.Serve(p); err != nil {
		stdlog.Fatal(err)
	}
}
