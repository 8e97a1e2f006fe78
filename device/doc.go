// Package device chooses where a Gorgonia graph runs (CPU, or CUDA in a
// binary built with -tags cuda) and compiles graphs into machines for it.
//
// It exists apart from package graph because the device depends on how the
// binary was built (build tags, the generated PTX in cudakernels_cuda.go),
// not on what a model computes: models and layers change for one reason,
// device support for another. Every function here is safe for concurrent
// use; Device is a plain string value.
package device
