// Command sandbox is lendgate's main demo. It builds the provider plugins,
// starts a simulator of each distributor, starts the host on the embedded
// bolt store, and walks through the lending API against every distributor:
// checkouts, fulfillment with its 303 redirect, renewal, return where
// offered, a notification, an access check and every error family. Each
// step prints its request, status and unified code.
//
//	go run ./examples/sandbox          # walk through, then keep serving until Ctrl-C
//	go run ./examples/sandbox -once    # walk through and exit 0 only if every step behaved
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	once := flag.Bool("once", false, "run the walk-through and exit: 0 if every step behaved as expected, 1 otherwise")
	listen := flag.String("listen", "127.0.0.1:8080", "where the host listens (with -once: a free loopback port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *once {
		*listen = "127.0.0.1:0"
	}
	ok, err := run(ctx, os.Stdout, *listen, !*once)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}
