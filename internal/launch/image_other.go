//go:build !linux

package launch

import "io"

// writeImage makes the private copy in a temp directory of the host's own:
// there is no memfd outside Linux.
func writeImage(plugin string, r io.Reader) (*Image, error) {
	return writeTempImage(plugin, r)
}
