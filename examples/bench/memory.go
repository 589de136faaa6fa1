package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// memClients is the load under which memory is measured.
const memClients = 64

// memoryDuration is how long the memory run lasts.
func memoryDuration(d time.Duration) time.Duration { return min(d, 1500*time.Millisecond) }

// memRow is one scenario's memory under load, measured in a process of its
// own so that no other scenario's leftovers count.
type memRow struct {
	Scenario  string `json:"scenario"`
	Idle      int64  `json:"idle"`       // the process's RSS before the scenario started
	HostRSS   int64  `json:"host_rss"`   // its peak during the run
	PluginRSS int64  `json:"plugin_rss"` // the plugin's peak during the run
	Calls     int64  `json:"calls"`
	LiveHeap  uint64 `json:"live_heap"` // Go heap after the run and a GC: what the process keeps (for checkouts, the journal)
}

type childFlags struct{ scenario, plugin string }

// memoryInChild runs the benchmark's own binary with -memory-child and
// reads what it measured.
func memoryInChild(ctx context.Context, scenario, plugin string, d time.Duration) (memRow, error) {
	exe, err := os.Executable()
	if err != nil {
		return memRow{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "-memory-child", scenario, "-memory-plugin", plugin, "-duration", d.String())
	setParentDeathSignal(cmd)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return memRow{}, fmt.Errorf("%s -memory-child: %w", exe, err)
	}
	var m memRow
	if err := json.Unmarshal(out, &m); err != nil {
		return memRow{}, fmt.Errorf("reading the memory child's answer %q: %w", out, err)
	}
	return m, nil
}

// runMemoryChild is the child's side: start one scenario, load it with
// memClients clients for d, print a memRow.
func runMemoryChild(f childFlags, d time.Duration) error {
	var s *scenario
	for _, c := range scenarioList(f.plugin, f.plugin, f.plugin) {
		if c.name == f.scenario {
			s = &c
		}
	}
	if s == nil {
		return fmt.Errorf("-memory-child: no scenario %q", f.scenario)
	}
	ctx := context.Background()
	m := memRow{Scenario: s.name, Idle: rss(os.Getpid())}
	t, err := s.setup(ctx, s.plugin)
	if err != nil {
		return err
	}
	defer t.close()
	t.reset = nil // keep the journal: it is part of what this process holds
	var a tally
	a.slice(ctx, t, memClients, d)
	if a.errors > 0 {
		return fmt.Errorf("%d errors under load, the first: %s", a.errors, a.firstError)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HostRSS, m.PluginRSS, m.Calls, m.LiveHeap = a.hostRSS, a.pluginRSS, a.calls, ms.HeapAlloc
	return json.NewEncoder(os.Stdout).Encode(m)
}
