// Command cb is the lendgate provider plugin for Centraal Boekhuis's eBoekhuis
// DigitalProductRentalService: it lends e-books through placeOrder, renews
// them with an addition to the first order, hands out the delivery URL the
// order gave, and checks access with checkAccess. The host runs it over
// hashicorp/go-plugin; see README.md for settings, options and what is
// assumed about the distributor.
package main

import (
	"log"
	"os"

	// Europe/Amsterdam must load where the system has no tzdata: EBS-10060's
	// Retry-After is the time to the next midnight there.
	_ "time/tzdata"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

// version is the plugin's version, set at build time with
// -ldflags "-X main.version=…".
var version = "1.0.0"

func main() {
	p := newProvider()
	// The connector's own lines, in the JSON the host's log reads, on the
	// stderr the host reads (captured before Serve hands os.Stderr over to
	// go-plugin).
	p.log = hclog.New(&hclog.LoggerOptions{Name: "plugin.cb", Level: hclog.Trace, Output: os.Stderr, JSONFormat: true})
	if err := sdk.Serve(p); err != nil {
		log.Fatal(err)
	}
}
