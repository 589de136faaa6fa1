// Command odl is the lendgate provider plugin for distributors that speak
// ODL 1.0 ("OPDS for Distributors") with Readium License Status Documents:
// it reads the library's licences from the distributor's OPDS 2 feed and
// their License Info Documents, lends through a licence's templated borrow
// link, fulfils, renews and returns loans through their License Status
// Documents (the one connector that returns a loan early for the library),
// resolves checkouts whose answer was lost, and turns the distributor's
// notifications into loan events.
//
// The host runs it over hashicorp/go-plugin; build it with
//
//	go build -ldflags "-X main.version=1.2.3" -o bin/lendgate-plugin-odl ./plugins/odl
//
// Its simulator is the importable package odlsim beside it.
package main

import (
	"github.com/lendgate/lendgate/internal/pluginmain"
)

// version is what Describe reports. It is a variable, the one piece of
// package state, so that a release build can set it with -ldflags.
var version = "1.0.0"

func main() {
	p := newProvider()
	pluginmain.Run("odl", p, &p.log)
}
