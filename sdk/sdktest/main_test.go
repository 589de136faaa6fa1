package sdktest_test

import (
	"testing"

	"github.com/lendgate/lendgate/internal/testbin"
)

// TestMain removes the binaries testbin built once every test has run.
func TestMain(m *testing.M) { testbin.Main(m) }
