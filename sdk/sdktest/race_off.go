//go:build !race

package sdktest

// raceEnabled: this test binary runs without the race detector; Build
// builds plugins without it (run go test -race to check them for races).
const raceEnabled = false
