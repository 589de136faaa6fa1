// Command ehubsim serves the simulated Axiell eHUB provider API
// (plugins/ehub/ehubsim) for the sandbox and manual tests: it prints its URL
// and serves until SIGINT or SIGTERM.
//
//	go run ./examples/ehubsim -listen 127.0.0.1:8090
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/lendgate/lendgate/internal/simserve"
	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

func main() {
	simserve.Main(func(string) http.Handler { return ehubsim.New() }, func(base string) {
		// The URL goes to stdout alone, so scripts can read it; the rest is
		// for people.
		fmt.Println(base)
		fmt.Fprintf(os.Stderr, "eHUB simulator: api key %q, try record %q\n", ehubsim.DefaultAPIKey, ehubsim.RecordMultiFormat)
	})
}
