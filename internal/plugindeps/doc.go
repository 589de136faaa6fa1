// Package plugindeps keeps in this module's go.mod the modules that a
// plugin's own module needs for `go mod tidy` and nothing of this module
// uses: the imports of its dependencies' tests (go-hclog's tests import
// testify). `go mod tidy` loads the tests of every package a module
// builds, so a new plugin that imports sdk resolves them too. With them
// required here, at the versions this module's go.sum pins, the plugin
// module's graph selects those versions: its tidy needs no checksum this
// module's go.sum lacks, and no module that `go mod download` here (which
// fetches every module go.mod requires) has not cached, so a plugin author
// works offline. internal/thirdpartytest's TestNewPluginTidiesOffline
// checks it.
//
// The imports are in deps.go, behind the build tag plugindeps: go mod tidy
// reads every build tag, builds and tests read none of them.
package plugindeps
