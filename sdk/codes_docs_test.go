package sdk_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lendgate/lendgate/sdk"
)

// docsCodeRow is one row of the error table in docs/api.md.
type docsCodeRow struct {
	status             int
	retryable, breaker bool
}

// readDocsCodeTable parses the rows of docs/api.md's error table whose
// first cell is a code in backquotes: | `code` | status | yes/no | yes/no | meaning |.
func readDocsCodeTable(t *testing.T) (map[sdk.Code]docsCodeRow, []sdk.Code) {
	t.Helper()
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[sdk.Code]docsCodeRow{}
	var order []sdk.Code
	inTable := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| code | HTTP status | retryable | breaker |") {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) < 5 || !strings.HasPrefix(cells[0], "`") {
			continue // the separator row
		}
		code := sdk.Code(strings.Trim(cells[0], "`"))
		status, err := strconv.Atoi(cells[1])
		if err != nil {
			t.Errorf("docs/api.md: %s: status %q is not a number", code, cells[1])
		}
		yes := func(col, s string) bool {
			if s != "yes" && s != "no" {
				t.Errorf("docs/api.md: %s: %s %q, want yes or no", code, col, s)
			}
			return s == "yes"
		}
		if _, dup := rows[code]; dup {
			t.Errorf("docs/api.md: %s is in the table twice", code)
		}
		rows[code] = docsCodeRow{status: status, retryable: yes("retryable", cells[2]), breaker: yes("breaker", cells[3])}
		order = append(order, code)
	}
	if !inTable {
		t.Fatal("docs/api.md has no error table (header | code | HTTP status | retryable | breaker | meaning |)")
	}
	return rows, order
}

// The error table in docs/api.md says what the code table says, for every
// code and in the same order.
func TestDocsCodeTableIsTheCodeTable(t *testing.T) {
	rows, order := readDocsCodeTable(t)
	for _, c := range sdk.Codes {
		row, ok := rows[c]
		if !ok {
			t.Errorf("docs/api.md: %s is missing from the error table", c)
			continue
		}
		i := c.Info()
		want := docsCodeRow{status: i.Status, retryable: i.Retryable, breaker: i.Breaker}
		if row != want {
			t.Errorf("docs/api.md: %s is %+v, the code table says %+v", c, row, want)
		}
	}
	for _, c := range order {
		if !c.Known() {
			t.Errorf("docs/api.md: %s is not a unified code", c)
		}
	}
	if len(order) == len(sdk.Codes) {
		for k := range order {
			if order[k] != sdk.Codes[k] {
				t.Errorf("docs/api.md: row %d is %s, sdk.Codes has %s there", k+1, order[k], sdk.Codes[k])
				break
			}
		}
	}
}
