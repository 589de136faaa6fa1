package resilience

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/lendgate/lendgate/sdk"
)

type observed struct{ provider, op, code string }

type callCounter struct{ calls []observed }

func (c *callCounter) Observe(provider, op, code string, _ time.Duration) {
	c.calls = append(c.calls, observed{provider, op, code})
}

// Outsiders grow nothing: a name that is no instance is labelled unknown
// and clipped in the log; codes come from the unified table.
func TestObserverLabelsAndClips(t *testing.T) {
	var buf bytes.Buffer
	m := &callCounter{}
	o := Observer{Log: hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info}), Metrics: m,
		IsInstance: func(p string) bool { return p == "cb" }}
	long := strings.Repeat("x", 1000)
	o.Done("cb", "checkout", "ln_1", time.Now(), nil)
	o.Done(long, "checkout", long, time.Now(), sdk.Errorf(sdk.CodeProviderNotFound, "no such provider"))
	o.Done("cb", "renew", "ln_2", time.Now(), sdk.Errorf("made_up", "what"))
	want := []observed{{"cb", "checkout", "ok"}, {"unknown", "checkout", "provider_not_found"}, {"cb", "renew", "provider_error"}}
	if len(m.calls) != len(want) {
		t.Fatalf("observed %v, want %v", m.calls, want)
	}
	for i := range want {
		if m.calls[i] != want[i] {
			t.Errorf("call %d: %+v, want %+v", i, m.calls[i], want[i])
		}
	}
	if strings.Contains(buf.String(), long[:200]) || !strings.Contains(buf.String(), "(1000 bytes)") {
		t.Errorf("the outsider's name is not clipped in the log:\n%s", buf.String())
	}
}
