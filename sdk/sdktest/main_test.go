package sdktest_test

import (
	"os"
	"testing"

	"github.com/lendgate/lendgate/internal/testbin"
)

// TestMain removes the binaries testbin built once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}
