package sdktest

import (
	"debug/buildinfo"
	"strings"
	"testing"
)

// A plugin serves every instance of its distributor from one process, the
// host calls it concurrently, and reconfigures instances while others
// lend: per-instance state in a map without a lock is a data race that no
// single-instance, one-call-at-a-time test sees. The kit configures two
// instances and calls both at once while it configures them again
// (concurrent_checkouts); a plugin built with the race detector (Build
// does, under go test -race) reports the race on its stderr, and this
// check fails with the report.

// raceBuilt reports whether the binary at path was built with -race.
func raceBuilt(path string) bool {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// checkRaces fails with every race report the plugin's log holds.
func (k *kit) checkRaces(t *testing.T) {
	reports := k.log.raceReports()
	for i, r := range reports {
		t.Errorf("the plugin has a data race (report %d of %d from its race detector):\n%s\n"+
			"Fix: the host calls a plugin concurrently, for several instances at once, and configures instances while others serve; "+
			"keep per-instance state in sdk.Instances (or behind a sync.Mutex), never in a package-level map",
			i+1, len(reports), indent(r))
	}
	if len(reports) == 0 && !raceBuilt(k.c.Binary) {
		t.Skip("the plugin binary was built without the race detector: run go test -race (sdktest.Build then builds the plugin with -race) to check it for data races")
	}
}

// indent prefixes every line of s with a tab, for a report quoted in a
// failure.
func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}
