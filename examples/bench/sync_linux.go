//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

func openDsync(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|unix.O_DSYNC, 0)
}
