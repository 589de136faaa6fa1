package journal

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lendgate/lendgate/host/internal/logsafe"
)

// FormatCursor renders event sequence number seq as a cursor that sorts as
// text in the same order as the numbers; every driver numbers events from
// 1 and uses it, so cursors look alike across drivers. (No fmt: it runs in
// every bolt commit.)
func FormatCursor(seq uint64) string {
	var b [20]byte
	d := strconv.AppendUint(b[:0], seq, 10)
	if len(d) >= 16 {
		return string(d)
	}
	return strings.Repeat("0", 16-len(d)) + string(d)
}

// ParseCursor reads an event cursor ("" is the start).
func ParseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid cursor %q", logsafe.Echo(c))
	}
	return n, nil
}
