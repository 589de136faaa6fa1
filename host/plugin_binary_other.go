//go:build !linux

package host

import "os"

// newPrivateImage makes the private copy in a temp directory of the host's
// own: there is no memfd outside Linux.
func newPrivateImage(plugin string) (*pluginBinary, *os.File, error) {
	return newTempImage(plugin)
}

// sealImage is never called without a memfd.
func sealImage(*os.File) error { return nil }
