//go:build race

package sdktest

// raceEnabled: this test binary runs with the race detector (go test
// -race), so Build builds plugins with it too.
const raceEnabled = true
