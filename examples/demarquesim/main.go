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

	"github.com/lendgate/lendgate/plugins/demarque/demarquesim"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	sim := demarquesim.New()
	base := "http://" + ln.Addr().String()
	fmt.Println(base)
	fmt.Printf("organisation_id %s, username %s, password %s\n",
		demarquesim.DefaultOrganisation, demarquesim.DefaultUsername, demarquesim.DefaultPassword)
	for _, isbn := range []string{demarquesim.ISBNAvailable, demarquesim.ISBNSecond, demarquesim.ISBNThird} {
		fmt.Printf("loan_url %s\n", sim.LoanURL(base, isbn))
	}

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
