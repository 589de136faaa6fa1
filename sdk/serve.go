package sdk

// Serve runs p as a lendgate provider plugin and returns when the host goes
// away. It is the whole main of a plugin binary.
func Serve(p Provider) {
	panic("not yet")
}
