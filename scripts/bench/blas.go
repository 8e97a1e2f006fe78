package main

import "github.com/hourglass-ml/hourglass/internal/kernels"

// blasCore names the matrix-product kernel of this build (for -tags openblas,
// the core OpenBLAS picked at load time).
func blasCore() string { return kernels.BLASBackend() }
