//go:build cuda

package device

import (
	"fmt"

	"gorgonia.org/gorgonia"
)

// CUDAEnabled reports whether this binary was built with -tags cuda.
func CUDAEnabled() bool { return true }

func checkDevice(dev Device) error {
	switch dev {
	case CUDA:
		return nil
	case CPU:
		return ErrCUDAOnly
	default:
		return fmt.Errorf("unknown device %q: valid devices are %q and %q", dev, CPU, CUDA)
	}
}

// machineFailureHint adds build-specific advice to a failed NewMachine: the
// most likely cause is PTX the GPU's driver cannot load (gorgonia issue #376).
// cudaKernelArch is defined in the generated cudakernels_cuda.go, so a cuda
// build without generated kernels does not compile (element-wise ops would
// otherwise fail at run time).
func machineFailureHint() string {
	return fmt.Sprintf(" (the CUDA kernels were compiled to PTX for %s: a GPU of lower compute capability needs "+
		"scripts/gen-cuda-kernels.sh with its architecture, and the driver must support CUDA 11.8, i.e. >= 520; see docs/gpu.md)", cudaKernelArch)
}

// newTapeMachine needs nothing beyond the plain TapeMachine: Gorgonia's cuda
// build places GPU-capable ops on GPU 0 during compilation, creates the CUDA
// context and loads the kernels registered with gorgonia.AddToStdLib by
// cudakernels_cuda.go.
func newTapeMachine(g *gorgonia.ExprGraph, opts ...gorgonia.VMOpt) gorgonia.VM {
	return gorgonia.NewTapeMachine(g, opts...)
}
