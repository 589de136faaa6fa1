package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

// pluginLog reads a plugin binary's stderr, line by line as go-plugin
// copies it, for what the kit checks there:
//
//   - sdk.OverrunMessage lines: how long after its call had ended a method
//     returned (the deadline check, Binary mode);
//   - the "plugin panicked" lines of sdk.Serve's recovery, with the panic
//     and its stack, so that a check names a panic where it happened;
//   - the race detector's reports of a plugin built with -race;
//   - any secret of the instance's settings (secretWatch).
type pluginLog struct {
	secrets *secretWatch
	where   string // names the log in a secret's report

	mu       sync.Mutex
	partial  []byte
	changed  chan struct{} // closed and replaced whenever something is recorded
	overruns []overrun
	panics   []panicRecord
	races    []string // whole reports
	race     []string // the report being read
	inRace   bool
}

// panicRecord is a panic that sdk.Serve recovered.
type panicRecord struct {
	method string // the gRPC method, /provider.v1.Provider/Checkout
	value  string
	frame  string // the first frame of the plugin's own code
}

func (p panicRecord) String() string {
	return fmt.Sprintf("%s panicked: %s, at %s", methodName(p.method), p.value, p.frame)
}

// The bounds of what a pluginLog keeps.
const (
	maxRaceReports    = 4
	maxRaceReportLine = 80
	maxLogLine        = 1 << 20 // a runaway line without a newline is dropped
)

func newPluginLog(secrets *secretWatch, where string) *pluginLog {
	return &pluginLog{secrets: secrets, where: where, changed: make(chan struct{})}
}

// Write takes stderr as go-plugin copies it (a line, then its newline).
func (l *pluginLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		l.partial = append([]byte(nil), l.partial[i+1:]...)
		l.line(line)
	}
	if len(l.partial) > maxLogLine {
		l.partial = nil
	}
	return len(p), nil
}

// line reads one line; l.mu is held.
func (l *pluginLog) line(line []byte) {
	if l.secrets != nil {
		l.secrets.scanLine(l.where, string(line))
	}
	if l.raceLine(string(line)) {
		return
	}
	var entry struct {
		Message   string  `json:"@message"`
		Method    string  `json:"method"`
		OverrunMS float64 `json:"overrun_ms"`
		Panic     string  `json:"panic"`
		Stack     string  `json:"stack"`
	}
	if json.Unmarshal(line, &entry) != nil {
		return
	}
	switch entry.Message {
	case sdk.OverrunMessage:
		l.overruns = append(l.overruns, overrun{method: entry.Method, late: time.Duration(entry.OverrunMS) * time.Millisecond})
	case panicLogMessage:
		l.panics = append(l.panics, panicRecord{method: entry.Method, value: entry.Panic, frame: firstFrame(entry.Stack)})
	default:
		return
	}
	l.notify()
}

// panicLogMessage is the message of sdk.Serve's log line for a recovered
// panic (with "method", "panic" and "stack").
const panicLogMessage = "plugin panicked"

// raceLine reads a line of a race detector's report, and reports whether
// it was one; l.mu is held.
func (l *pluginLog) raceLine(line string) bool {
	const (
		start = "WARNING: DATA RACE"
		rule  = "=================="
	)
	switch {
	case strings.TrimSpace(line) == start:
		l.inRace, l.race = true, []string{line}
		return true
	case !l.inRace:
		return strings.TrimSpace(line) == rule
	case strings.TrimSpace(line) == rule:
		l.inRace = false
		if len(l.races) < maxRaceReports {
			l.races = append(l.races, strings.Join(l.race, "\n"))
		}
		l.race = nil
		l.notify()
		return true
	}
	if len(l.race) < maxRaceReportLine {
		l.race = append(l.race, line)
	} else if len(l.race) == maxRaceReportLine {
		l.race = append(l.race, "\t…")
	}
	return true
}

// notify wakes whoever waits for a record; l.mu is held.
func (l *pluginLog) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait calls found under l.mu until it reports true or ctx ends; false in
// the latter case.
func (l *pluginLog) wait(ctx context.Context, found func() bool) bool {
	for {
		l.mu.Lock()
		if found() {
			l.mu.Unlock()
			return true
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

// panicOf waits (until ctx ends) for the record of a panic in method, the
// latest one; the line comes over a pipe and may trail the call's answer.
func (l *pluginLog) panicOf(ctx context.Context, method string) (panicRecord, bool) {
	var p panicRecord
	ok := l.wait(ctx, func() bool {
		for i := len(l.panics) - 1; i >= 0; i-- {
			if methodName(l.panics[i].method) == methodName(method) {
				p = l.panics[i]
				return true
			}
		}
		return false
	})
	return p, ok
}

// allPanics returns the recorded panics.
func (l *pluginLog) allPanics() []panicRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]panicRecord(nil), l.panics...)
}

// raceReports returns the race detector's reports read so far.
func (l *pluginLog) raceReports() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.races...)
}

// firstFrame finds, in a goroutine's stack as runtime/debug.Stack writes
// it, the first frame of the plugin's own code: the function and its
// file:line, past the runtime, the panic, the SDK's recovery and gRPC.
func firstFrame(stack string) string {
	lines := strings.Split(stack, "\n")
	for i := 0; i+1 < len(lines); i++ {
		fn := strings.TrimSpace(lines[i])
		loc := strings.TrimSpace(lines[i+1])
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || !strings.HasPrefix(lines[i+1], "\t") {
			continue
		}
		i++
		if foreignFrame(fn) {
			continue
		}
		if j := strings.LastIndex(loc, " +0x"); j > 0 {
			loc = loc[:j]
		}
		if j := strings.LastIndex(fn, "("); j > 0 {
			fn = fn[:j]
		}
		return fn + " (" + loc + ")"
	}
	return "(no frame of the plugin's own in the stack)"
}

// foreignFrame reports whether the function of a stack frame is not the
// plugin's own: the standard library (the runtime, the panic), the SDK
// (its recovery, and the kit's watch in Provider mode), this module's
// internal packages, gRPC.
func foreignFrame(fn string) bool {
	if strings.HasPrefix(fn, "panic(") {
		return true
	}
	slash := strings.LastIndex(fn, "/") + 1
	name, _, _ := strings.Cut(fn[slash:], ".")
	pkg := fn[:slash] + name
	first, _, _ := strings.Cut(pkg, "/")
	if pkg != "main" && !strings.Contains(first, ".") {
		return true // the standard library: its paths have no domain
	}
	for _, p := range []string{"github.com/lendgate/lendgate/sdk.", "github.com/lendgate/lendgate/sdk/sdktest.",
		"github.com/lendgate/lendgate/internal/", "google.golang.org/grpc"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// methodName is the operation of a gRPC method ("Checkout" of
// /provider.v1.Provider/Checkout).
func methodName(method string) string {
	if i := strings.LastIndex(method, "/"); i >= 0 {
		return method[i+1:]
	}
	return method
}
