// Package testplugins holds the plugins the tests build: fakeplugin (steered
// by checkout options), hostileplugin (answers past every bound) and
// v2plugin (speaks a protocol version the host does not). Each is a main
// package of its own below this directory.
package testplugins
