package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/lendgate/lendgate/host"
)

// secretEnv holds the webhook receivers' signing secret: the environment
// rather than a flag, which every user of the machine sees in ps.
const secretEnv = "LENDGATE_WEBHOOK_SECRET"

// webhookSecret picks the signing secret: the flag's if given, else the
// environment's, else a new one (generated is then true: the caller prints
// it, as the receiver cannot verify anything without it).
func webhookSecret(flagValue, envValue string) (secret string, generated bool, err error) {
	switch {
	case flagValue != "":
		return flagValue, false, nil
	case envValue != "":
		return envValue, false, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", false, fmt.Errorf("generating a webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key), true, nil
}

// endpointName is a receiver URL as the host names it: without user info,
// query or fragment, which may carry credentials.
func endpointName(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// webhookConfigs turns the -webhook URLs into the host's config, allowing
// plain http (a receiver beside the sandbox) and saying so.
func webhookConfigs(out io.Writer, urls []string, secret string) ([]host.WebhookConfig, error) {
	var ws []host.WebhookConfig
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("-webhook %q: want an absolute http or https URL", shorten(raw, 60))
		}
		c := host.WebhookConfig{URL: raw, Secret: secret}
		note := ""
		if u.Scheme == "http" {
			// The sandbox is for development: a receiver started beside it
			// rarely has a certificate. A production config must opt in.
			c.AllowInsecureHTTP = true
			note = " (plain http: allow_insecure_http set"
			if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
				note += "; this is not loopback, and events carry patron ids"
			}
			note += ")"
		}
		// The host names it by position (webhook-N): its progress lines
		// below use that name, never the URL.
		fmt.Fprintf(out, "webhook-%d: every event goes to %s%s\n", i+1, endpointName(u), note)
		ws = append(ws, c)
	}
	return ws, nil
}

// drainWebhooks waits, up to timeout, until no endpoint has an event
// queued, printing progress; false (after naming each endpoint still
// queued and its last error) when that did not happen in time. kept says
// the journal outlives the run (-db).
func drainWebhooks(ctx context.Context, h *host.Host, out io.Writer, timeout time.Duration, kept bool) bool {
	fmt.Fprintln(out, "\n== webhooks ==")
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last []host.WebhookStatus
	var lastErr error
	printed := time.Now()
	for {
		ws, err := h.Webhooks(dctx)
		if err == nil {
			last, lastErr = ws, nil
			if queued(ws) == 0 {
				for _, w := range ws {
					fmt.Fprintf(out, "  %s: every event delivered (cursor %s)\n", w.Name, w.Cursor)
				}
				return true
			}
		} else if dctx.Err() == nil {
			lastErr = err
		}
		if time.Since(printed) >= 2*time.Second {
			printed = time.Now()
			fmt.Fprintf(out, "  waiting for %d event(s) to reach the receivers…%s\n", queued(last), failing(last))
		}
		select {
		case <-dctx.Done():
			fmt.Fprintf(out, "  the receivers did not get every event within %s:\n", timeout)
			if lastErr != nil {
				fmt.Fprintf(out, "    the webhook journal cannot be read: %v\n", lastErr)
			}
			for _, w := range last {
				if w.Queued > 0 {
					fmt.Fprintf(out, "    %s: %d queued, last error: %s\n", w.Name, w.Queued, lastError(w))
				}
			}
			if kept {
				fmt.Fprintln(out, "  they stay queued in the journal: run again with the same -db to deliver them")
			} else {
				fmt.Fprintln(out, "  the journal was temporary: with -db FILE they would stay queued for the next run")
			}
			return false
		case <-tick.C:
		}
	}
}

func queued(ws []host.WebhookStatus) int {
	n := 0
	for _, w := range ws {
		n += w.Queued
	}
	return n
}

// failing describes the endpoints that are failing, for a progress line.
func failing(ws []host.WebhookStatus) string {
	var b strings.Builder
	for _, w := range ws {
		if w.FailingSince != nil {
			fmt.Fprintf(&b, " %s: %s;", w.Name, lastError(w))
		}
	}
	return strings.TrimSuffix(b.String(), ";")
}

func lastError(w host.WebhookStatus) string {
	switch {
	case w.LastError == "":
		return "none (no attempt failed yet)"
	case w.LastStatus != 0:
		return fmt.Sprintf("%s %d after %d failed attempt(s)", w.LastError, w.LastStatus, w.Attempts)
	default:
		return fmt.Sprintf("%s after %d failed attempt(s)", w.LastError, w.Attempts)
	}
}

// printWebhookHelp tells how to point a receiver at the sandbox.
func printWebhookHelp(out io.Writer, s *sandbox) {
	if len(s.webhooks) == 0 {
		fmt.Fprintln(out, "Push every event to a receiver: restart with -webhook URL (repeatable) and the secret in")
		fmt.Fprintf(out, "%s=whsec_… (or let the sandbox print a new one); -db FILE keeps the journal across restarts.\n", secretEnv)
	} else {
		fmt.Fprintf(out, "Webhooks: %s\n", strings.Join(s.webhooks, ", "))
		fmt.Fprintf(out, "  curl -s -H 'Authorization: Bearer %s' %s/v1/admin/webhooks\n", s.adminKey, s.url)
	}
	fmt.Fprintln(out, "How a receiver verifies the signatures (Go and Python): docs/webhooks.md, \"Verifying a delivery\".")
}
