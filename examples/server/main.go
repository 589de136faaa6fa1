// Command server runs the lendgate host as a standalone HTTP service, a
// sidecar for an ILS not written in Go:
//
//	go run ./examples/server -config lendgate.json
//
// SIGHUP re-reads the config file and hot-swaps every plugin to the binary
// and pin it names now (instances and other settings need a restart); SIGTERM or SIGINT stops accepting requests,
// drains those in flight and stops the plugins.
//
// A journal that cannot be read whole (a damaged bolt log) stops the start:
// the server exits 1 with an error naming the file and the offset.
// -recover-journal is the operator's step past it (docs/operations.md,
// "Recovering a damaged journal"): it keeps what precedes the damage, moves
// the damaged log aside, prints what it dropped, and starts.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/lendgate/lendgate/host"
	// The server offers every driver of the module: store.driver and
	// cluster.redis.
	_ "github.com/lendgate/lendgate/host/cluster/redis"
	"github.com/lendgate/lendgate/host/config"
	"github.com/lendgate/lendgate/host/journal"
	"github.com/lendgate/lendgate/host/journal/bolt"
	_ "github.com/lendgate/lendgate/host/journal/postgres"
)

func main() {
	configPath := flag.String("config", "lendgate.json", "config file (JSON, see config.md)")
	listen := flag.String("listen", "", "listen address (default: the config's listen, else 127.0.0.1:8080)")
	drain := flag.Duration("drain", 30*time.Second, "how long SIGTERM waits for requests in flight")
	checkOnly := flag.Bool("check", false, "validate the config (keys, pins, plugin handshake), print a report and exit 0 or 1")
	recoverJournal := flag.Bool("recover-journal", false, `before starting, recover a damaged bolt journal: keep what precedes the damage, move the damaged log aside, print what was dropped (docs/operations.md "Recovering a damaged journal")`)
	flag.Parse()
	if *checkOnly {
		os.Exit(checkMain(*configPath))
	}
	if err := run(*configPath, *listen, *drain, *recoverJournal); err != nil {
		log.Fatal(err)
	}
}

func run(configPath, listen string, drain time.Duration, recoverJournal bool) error {
	cfg, err := host.LoadConfig(configPath)
	if err != nil {
		return err
	}
	if recoverJournal {
		rec, err := recoverBolt(cfg.Store)
		if err != nil {
			return err
		}
		log.Print(rec)
	}
	if listen == "" {
		listen = cfg.Listen
	}
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	h, err := host.New(ctx, cfg)
	if errors.Is(err, journal.ErrDamaged) {
		return fmt.Errorf("%w\n(once you have read it, start once with -recover-journal to open the journal without what follows the damage)", err)
	}
	if err != nil {
		return err
	}
	defer h.Close(context.Background())

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := newServer(h.Handler(), cfg)
	fmt.Printf("lendgate listening on http://%s\n", ln.Addr())

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOn(ctx, hup, h, configPath)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain: stop accepting, let requests in flight finish, then the
	// deferred Close stops the plugins.
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("draining: %w", err)
	}
	return nil
}

// recoverBolt runs bolt's recovery on the configured journal: the bolt
// driver's alone (PostgreSQL recovers its own).
func recoverBolt(c host.StoreConfig) (bolt.Recovery, error) {
	if c.Driver != "" && c.Driver != "bolt" {
		return bolt.Recovery{}, fmt.Errorf("-recover-journal: store.driver %q keeps no log of its own to recover; it is the bolt journal's step", c.Driver)
	}
	return bolt.Recover(cmp.Or(c.DSN, bolt.DefaultPath))
}

// reloadOn swaps every plugin on each SIGHUP, to the path and pin the config
// file gives now.
func reloadOn(ctx context.Context, hup <-chan os.Signal, h *host.Host, configPath string) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			cfg, err := host.LoadConfig(configPath)
			if err != nil {
				log.Printf("reload: %v", err)
				continue
			}
			names := make([]string, 0, len(cfg.Plugins))
			for n := range cfg.Plugins {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				pc := cfg.Plugins[n]
				res, err := h.ReloadConfig(ctx, n, pc)
				if err != nil {
					log.Printf("reload %s: %v", n, err)
					continue
				}
				log.Printf("reloaded %s: %s (pid %d) -> %s (pid %d)", n, res.Old.Version, res.Old.PID, res.New.Version, res.New.PID)
			}
		}
	}
}

// The server's timeouts. A slow or silent client must not hold a connection
// (api.md §7): headers within 10 s, the whole request (bodies are at most
// 1 MiB) within 30 s, an idle keep-alive connection for 2 min. The write
// timeout runs from the end of the headers, so it covers the body, the
// longest call an instance can make (max_wait + timeout) and a margin for
// the journal: cutting it shorter would drop the answer of a checkout the
// distributor has already made.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	journalMargin     = 15 * time.Second
)

func newServer(handler http.Handler, cfg host.Config) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout(cfg),
		IdleTimeout:       idleTimeout,
	}
}

// writeTimeout is readTimeout plus the longest call of any instance plus
// journalMargin.
func writeTimeout(cfg host.Config) time.Duration {
	longest := config.DefaultMaxWait + config.DefaultTimeout
	for _, p := range cfg.Providers {
		timeout, wait := time.Duration(p.Timeout), time.Duration(p.Rate.MaxWait)
		if timeout <= 0 {
			timeout = config.DefaultTimeout
		}
		if wait <= 0 {
			wait = config.DefaultMaxWait
		}
		longest = max(longest, timeout+wait)
	}
	return readTimeout + longest + journalMargin
}
