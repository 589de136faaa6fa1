package simserve

import (
	"flag"
	"log"
	"net/http"
)

// Main is a simulator's main: it reads the -listen flag (default
// 127.0.0.1:0), runs the simulator with Run, and ends the process with the
// error Run returns.
func Main(h func(base string) http.Handler, announce func(base string)) {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	flag.Parse()
	if err := Run(*listen, h, announce); err != nil {
		log.Fatal(err)
	}
}
