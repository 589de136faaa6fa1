package launch

import "fmt"

// VersionError is Start's answer when the plugin speaks none of the host's
// protocol versions. It names both, so the operator knows which side to
// upgrade.
type VersionError struct {
	Plugin int   // the version the plugin announced
	Host   []int // the versions the host speaks
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("incompatible provider protocol: Plugin version: %d, host speaks %v", e.Plugin, e.Host)
}
