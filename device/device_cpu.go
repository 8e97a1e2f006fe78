//go:build !cuda

package device

import (
	"fmt"

	"gorgonia.org/gorgonia"
)

// CUDAEnabled reports whether this binary was built with -tags cuda.
func CUDAEnabled() bool { return false }

func checkDevice(dev Device) error {
	switch dev {
	case CPU:
		return nil
	case CUDA:
		return ErrNoCUDA
	default:
		return fmt.Errorf("unknown device %q: valid devices are %q and %q", dev, CPU, CUDA)
	}
}

// machineFailureHint adds build-specific advice to a failed NewMachine.
func machineFailureHint() string { return "" }

func newTapeMachine(g *gorgonia.ExprGraph, opts ...gorgonia.VMOpt) gorgonia.VM {
	return gorgonia.NewTapeMachine(g, opts...)
}
