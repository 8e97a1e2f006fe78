// Package openblas reports which kernel the OpenBLAS library linked into an
// `-tags openblas` build picked, and sets its thread count. It lives apart
// from package kernels because a cgo package cannot also hold Go assembly;
// without -tags openblas it is empty. SetNumThreads changes process-wide
// OpenBLAS state: callers serialise it (see kernels.SerialBLAS).
package openblas
