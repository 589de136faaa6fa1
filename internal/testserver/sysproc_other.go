//go:build !unix

package testserver

import "os/exec"

// account is the user servers run as; elsewhere than Unix, always this
// process's own (nil).
type account struct{ name string }

func unprivileged() (*account, error)     { return nil, nil }
func (a *account) apply(cmd *exec.Cmd)    {}
func (a *account) chown(dir string) error { return nil }
func detach(cmd *exec.Cmd)                {}
