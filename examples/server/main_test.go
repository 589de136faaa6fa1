package main

import (
	"testing"

	"github.com/lendgate/lendgate/internal/testbin"
)

// TestMain removes the binaries testbin built once every test has run. The
// server's system tests live in internal/systemtest.
func TestMain(m *testing.M) { testbin.Main(m) }
