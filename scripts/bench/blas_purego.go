//go:build !openblas

package main

// blasCore names the matrix-product kernel of this build.
func blasCore() string { return "go" }
