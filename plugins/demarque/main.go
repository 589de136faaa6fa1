// Command demarque is the lendgate provider plugin for the De Marque digital
// warehouse: it lends publications through the per-publication loan_url
// bought with them (checkout, fulfillment by regenerating the link), fetches
// one-minute download links for purchased publications from the retail API,
// and turns the warehouse's early-return notifications into loan events.
//
// The host runs it over hashicorp/go-plugin; build it with
//
//	go build -ldflags "-X main.version=1.2.3" -o bin/lendgate-plugin-demarque ./plugins/demarque
//
// Its simulator is the importable package demarquesim beside it.
package main

import (
	"github.com/lendgate/lendgate/internal/pluginmain"
)

// version is what Describe reports. It is a variable, the one piece of
// package state, so that a release build can set it with -ldflags.
var version = "1.0.0"

func main() {
	p := newProvider()
	pluginmain.Run("demarque", p, &p.log)
}
