package main

// distributors returns the walk-through's distributors, each with a fresh
// simulator.
func distributors() []*distributor {
	return []*distributor{demarque(), cb(), ehub(), odl()}
}
