// Package systemtest holds lendgate's system tests: each runs the
// examples/server binary as a real process (built with testbin), with the
// real plugins under it and the distributors' simulators in the test
// process, so that a simulator outlives a server that is killed. They attack
// the server from outside (adversarial_*), kill it mid-lending
// (durability), run two servers on one cluster state (cluster) and signal it
// (signals).
//
// They are Linux only: they kill -9 processes and check, through /proc, that
// a plugin does not outlive its host (the host's parent-death signal is a
// Linux feature); one journal test mounts a tmpfs and needs root.
//
// The package has no code of its own; the harness is helpers_test.go and
// adversarial_helpers_test.go.
package systemtest
