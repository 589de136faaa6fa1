// Command cb is the lendgate provider plugin for Centraal Boekhuis's eBoekhuis
// DigitalProductRentalService: it lends e-books through placeOrder, renews
// them with an addition to the first order, hands out the delivery URL the
// order gave, and checks access with checkAccess. The host runs it over
// hashicorp/go-plugin; see README.md for settings, options and what is
// assumed about the distributor.
package main

import (
	// Europe/Amsterdam must load where the system has no tzdata: EBS-10060's
	// Retry-After is the time to the next midnight there.
	_ "time/tzdata"

	"github.com/lendgate/lendgate/internal/pluginmain"
)

// version is the plugin's version, set at build time with
// -ldflags "-X main.version=…".
var version = "1.0.0"

func main() {
	p := newProvider()
	pluginmain.Run("cb", p, &p.log)
}
