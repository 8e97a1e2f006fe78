//go:build !openblas && (!amd64 || purego)

package kernels

// packedKernel: no assembly micro-kernel off amd64 or with -tags purego;
// gonum's Sgemm is used, as it always was there.
func packedKernel() *gemmKernel { return nil }

// asmKernels: none in this build (tests skip what needs one).
func asmKernels() []*gemmKernel { return nil }
