// Command odlsim serves the ODL distributor simulator
// (plugins/odl/odlsim) on its own, for the sandbox, manual tests and curl:
//
//	go run ./examples/odlsim -listen 127.0.0.1:8084
//
// It prints its base URL, the feed URL, the credentials and the test
// items, then serves until SIGINT or SIGTERM (notifications still queued
// are dropped).
package main

import (
	"fmt"
	"net/http"

	"github.com/lendgate/lendgate/internal/simserve"
	"github.com/lendgate/lendgate/plugins/odl/odlsim"
)

func main() {
	sim := odlsim.New()
	defer sim.Close()
	simserve.Main(func(string) http.Handler { return sim }, func(base string) {
		fmt.Println(base)
		fmt.Printf("feed_url %s\n", sim.FeedURL(base))
		fmt.Printf("username %s, password %s (or token %s)\n", odlsim.DefaultUsername, odlsim.DefaultPassword, odlsim.DefaultToken)
		for _, item := range []string{odlsim.ISBNAvailable, odlsim.ISBNLCP, odlsim.ISBNMulti, odlsim.ISBNOneCopy, odlsim.ISBNAudiobook, odlsim.ItemUUID} {
			fmt.Printf("item %s\n", item)
		}
	})
}
