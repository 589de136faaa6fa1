// Command ehub is the lendgate provider plugin for the Axiell eHUB provider
// API: it turns the unified checkout and fulfillment into eHUB's
// POST /v1/checkouts and (assumed) GET /v1/checkouts/{id}, and eHUB's error
// codes into the unified ones. The host runs it over hashicorp/go-plugin; see
// README.md for its settings and what is assumed.
package main

import (
	"github.com/lendgate/lendgate/internal/pluginmain"
)

// version is the plugin's version, reported by Describe. Release builds set
// it with -ldflags "-X main.version=...".
var version = "1.0.0"

func main() {
	p := newProvider()
	pluginmain.Run("ehub", p, &p.log)
}
