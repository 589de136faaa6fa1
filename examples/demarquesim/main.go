// Command demarquesim serves the De Marque digital warehouse simulator
// (plugins/demarque/demarquesim) on its own, for the sandbox, manual tests
// and curl:
//
//	go run ./examples/demarquesim -listen 127.0.0.1:8081
//
// It prints its base URL, the credentials and the loan_url of every
// publication in its catalogue, then serves until SIGINT or SIGTERM.
package main

import (
	"fmt"
	"net/http"

	"github.com/lendgate/lendgate/internal/simserve"
	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

func main() {
	sim := demarquesim.New()
	simserve.Main(func(string) http.Handler { return sim }, func(base string) {
		fmt.Println(base)
		fmt.Printf("organisation_id %s, username %s, password %s\n",
			demarquesim.DefaultOrganisation, demarquesim.DefaultUsername, demarquesim.DefaultPassword)
		for _, isbn := range []string{demarquesim.ISBNAvailable, demarquesim.ISBNSecond, demarquesim.ISBNThird} {
			fmt.Printf("loan_url %s\n", sim.LoanURL(base, isbn))
		}
	})
}
