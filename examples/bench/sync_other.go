//go:build !linux

package main

import "os"

func fdatasync(f *os.File) error { return f.Sync() }

func openDsync(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_SYNC, 0)
}
