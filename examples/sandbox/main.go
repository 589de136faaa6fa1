// Command sandbox is lendgate's main demo. It builds the provider plugins,
// starts a simulator of each distributor, starts the host on the embedded
// bolt store, and walks through the lending API against every distributor:
// checkouts, fulfillment with its 303 redirect, renewal, return where
// offered, a notification, an access check and every error family. Each
// step prints its request, status and unified code.
//
//	go run ./examples/sandbox          # walk through, then keep serving until Ctrl-C
//	go run ./examples/sandbox -once    # walk through and exit 0 only if every step behaved
//
// With -webhook URL the host pushes every event of the run to that
// receiver, signed the Standard Webhooks way (docs/webhooks.md); with -once
// it exits only once each receiver has them all. -db keeps the journal
// across runs, so a restarted sandbox delivers what was still pending.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the sandbox's command line.
type options struct {
	listen string
	serve  bool // keep serving after the walk-through (without -once)
	// db is the bolt file of the journal; "" is a temporary one removed at
	// exit.
	db string
	// webhooks receive every event of the run, signed with webhookSecret.
	webhooks      []string
	webhookSecret string
	// drainTimeout bounds the wait, with -once, for the webhooks' queues
	// to empty before exiting.
	drainTimeout time.Duration
}

func main() {
	var o options
	once := flag.Bool("once", false, "run the walk-through and exit: 0 if every step behaved as expected (and every -webhook received every event), 1 otherwise")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:8080", "where the host listens (with -once: a free loopback port)")
	flag.StringVar(&o.db, "db", "", "bolt file of the journal, kept across runs (default: a temporary file removed at exit); a restart with the same file delivers the webhook events still pending")
	flag.Func("webhook", "push every event to this receiver URL (repeatable); http:// is allowed for development", func(s string) error {
		o.webhooks = append(o.webhooks, s)
		return nil
	})
	secretFlag := flag.String("webhook-secret", "", "the receivers' signing secret, whsec_…; prefer the environment variable "+secretEnv+": a flag value is visible to every user in ps (neither: one is generated and printed)")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "with -once: how long to wait for every -webhook to receive the run's events")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.serve = !*once
	if *once {
		o.listen = "127.0.0.1:0"
	}
	if len(o.webhooks) > 0 {
		secret, generated, err := webhookSecret(*secretFlag, os.Getenv(secretEnv))
		if err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(2)
		}
		o.webhookSecret = secret
		if generated {
			// Printed once, on purpose: the receiver needs it to verify.
			fmt.Printf("webhook secret (generated; configure your receiver with it, or set %s next time):\n  %s\n", secretEnv, secret)
		}
	}
	ok, err := run(ctx, os.Stdout, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}
