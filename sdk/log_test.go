package sdk

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// TestPluginLogIsWhatTheHostReads: Serve's default logger writes the keys
// and the timestamp layout that go-plugin parses on the host's side, so a
// plugin's line keeps its level and fields in the host's log.
func TestPluginLogIsWhatTheHostReads(t *testing.T) {
	var buf bytes.Buffer
	log := newPluginLogger(&buf)
	log.Warn("upstream slow", "instance", "a")
	log.Log(t.Context(), slog.LevelDebug-4, "very fine")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	want := []struct{ level, msg string }{{"warn", "upstream slow"}, {"trace", "very fine"}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, line := range lines {
		var e map[string]any
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if e["@level"] != want[i].level || e["@message"] != want[i].msg {
			t.Errorf("line %q: want @level %q and @message %q", line, want[i].level, want[i].msg)
		}
		ts, _ := e["@timestamp"].(string)
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", ts); err != nil {
			t.Errorf("line %q: go-plugin cannot read its @timestamp: %v", line, err)
		}
	}
}
