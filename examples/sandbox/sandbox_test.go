package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestWalkThrough is `go run ./examples/sandbox -once`: every step must
// behave as the walk-through expects.
func TestWalkThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every plugin")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	ok, err := run(ctx, &out, options{listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, out.String())
	}
	if !ok || strings.Contains(out.String(), "UNEXPECTED") {
		t.Fatalf("walk-through had unexpected steps:\n%s", out.String())
	}
	t.Log(out.String())
}
