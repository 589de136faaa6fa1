package host

import (
	"crypto/x509"
	"time"
)

// WebhookTiming shortens the webhook delays of a host, for tests only.
type WebhookTiming struct {
	First, Max, GiveUp, Timeout, Poll, Lease time.Duration
	// SaveEvery spaces the journal writes of a moving cursor (0: each
	// change is written as soon as the previous write is done).
	SaveEvery time.Duration
	Roots     *x509.CertPool
	// Saved is called after each write of an endpoint's journal record.
	Saved func(webhookState)
	// Closing is called when Close has told a delivery loop to stop.
	Closing func()
}

// SetWebhookTiming makes hosts created from cfg use t.
func SetWebhookTiming(cfg *Config, t WebhookTiming) {
	cfg.webhookTiming = &webhookTiming{first: t.First, max: t.Max, giveUp: t.GiveUp, timeout: t.Timeout,
		poll: t.Poll, lease: t.Lease, saveEvery: t.SaveEvery, roots: t.Roots, saved: t.Saved, closing: t.Closing}
}

// WebhookDelay is the production backoff after the attempts-th failure.
func WebhookDelay(attempts int) time.Duration {
	d := defaultWebhookTiming()
	return webhookDelay(d.first, d.max, attempts)
}

// WebhookState is the journal record of an endpoint, for tests that watch it.
type WebhookState = webhookState

// WebhookWindowSize is how far past its cursor an endpoint's deliveries run.
const WebhookWindowSize = webhookWindowSize
