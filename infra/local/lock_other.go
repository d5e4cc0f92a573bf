//go:build !unix

package local

// lockDir does not lock on this platform (no flock): keep one stack per data directory by hand.
func lockDir(string) (func(), error) { return func() {}, nil }
