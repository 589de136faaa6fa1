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

	"github.com/lendgate/lendgate/plugins/cb/cbsim"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if err := run(*listen); err != nil {
		log.Fatal(err)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: cbsim.New(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Println(cbsim.BaseURL("http://" + ln.Addr().String()))
	fmt.Fprintf(os.Stderr, "cbsim: Basic auth %s / %s; set allow_insecure_http for this base_url\n",
		cbsim.DefaultUsername, cbsim.DefaultPassword)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
