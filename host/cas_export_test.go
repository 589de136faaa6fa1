package host

import "context"

// ManualSweep makes hosts created from cfg run no sweeper of their own: a
// test runs its passes with Sweep, at the moments it chooses.
func ManualSweep(cfg *Config) { cfg.manualSweep = true }

// Sweep runs one pass of h's sweeper.
func Sweep(ctx context.Context, h *Host) { h.sweep(ctx) }
