//go:build !linux

package launch

import "os/exec"

// setParentDeathSignal is Linux only; elsewhere sdk.Serve's parent watch is
// what stops an orphaned plugin.
func setParentDeathSignal(*exec.Cmd) {}
