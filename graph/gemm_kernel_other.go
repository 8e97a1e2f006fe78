//go:build !openblas && !amd64

package graph

// packedKernel: no assembly micro-kernel off amd64; gonum's Sgemm is used.
func packedKernel() *gemmKernel { return nil }

func supportedKernels() []*gemmKernel { return nil }
