// Command cbsim serves the Centraal Boekhuis simulator (package
// plugins/cb/cbsim) on a local address, for the sandbox and for trying the cb
// plugin by hand. It prints the base_url to configure and serves until
// SIGINT or SIGTERM.
//
//	go run ./examples/cbsim -listen 127.0.0.1:8081
//
// The simulator takes Basic auth library/secret; its test EANs are listed in
// the cbsim package documentation.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/lendgate/lendgate/internal/simserve"
	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

func main() {
	simserve.Main(func(string) http.Handler { return cbsim.New() }, func(base string) {
		fmt.Println(cbsim.BaseURL(base))
		fmt.Fprintf(os.Stderr, "cbsim: Basic auth %s / %s; set allow_insecure_http for this base_url\n",
			cbsim.DefaultUsername, cbsim.DefaultPassword)
	})
}
