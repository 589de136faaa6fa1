// Command ehubsim serves the simulated Axiell eHUB provider API
// (plugins/ehub/ehubsim) for the sandbox and manual tests: it prints its URL
// and serves until SIGINT or SIGTERM.
//
//	go run ./examples/ehubsim -listen 127.0.0.1:8090
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lendgate/lendgate/plugins/ehub/ehubsim"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("listening on %s: %v", *listen, err)
	}
	// The URL goes to stdout alone, so scripts can read it; the rest is for
	// people.
	fmt.Printf("http://%s\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "eHUB simulator: api key %q, try record %q\n", ehubsim.DefaultAPIKey, ehubsim.RecordMultiFormat)

	srv := &http.Server{Handler: ehubsim.New(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("serving: %v", err)
		}
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Printf("shutting down: %v", err)
		}
	}
}
