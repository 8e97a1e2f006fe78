package device

import (
	"errors"
	"fmt"
	"strings"

	"gorgonia.org/gorgonia"
)

// Device says where a graph's ops run.
type Device string

// Devices this package knows.
const (
	// CPU runs every op on the host. It is the default and what CI tests.
	CPU Device = "cpu"
	// CUDA runs every GPU-capable op on GPU 0. Gorgonia v0.9.18 built with
	// -tags cuda makes that placement itself; it cannot be chosen per op.
	CUDA Device = "cuda"
)

// ErrNoCUDA is returned when the cuda device is asked of a binary built
// without the cuda tag.
var ErrNoCUDA = errors.New("this binary was built without CUDA support; " +
	"rebuild it with: go build -tags cuda ./cmd/... (needs CUDA 11.8 + cuDNN 8, see docker/README.md)")

// ErrCUDAOnly is returned when the cpu device is asked of a binary built
// with the cuda tag: that build of Gorgonia places GPU-capable ops on GPU 0
// whatever the caller wants.
var ErrCUDAOnly = errors.New("this binary was built with -tags cuda, which runs every GPU-capable op on GPU 0; " +
	"for --device cpu use a binary built without -tags cuda (go build ./cmd/train, or docker/Dockerfile.cpu)")

// ParseDevice reads a device name as given on a command line
// (case-insensitive, surrounding spaces ignored).
func ParseDevice(s string) (Device, error) {
	switch d := Device(strings.ToLower(strings.TrimSpace(s))); d {
	case CPU:
		return CPU, nil
	case CUDA:
		if !CUDAEnabled() {
			return "", ErrNoCUDA
		}
		return CUDA, nil
	case "gpu":
		return "", fmt.Errorf("unknown device %q: valid devices are %q and %q (use %q for an NVIDIA GPU)", s, CPU, CUDA, CUDA)
	default:
		return "", fmt.Errorf("unknown device %q: valid devices are %q and %q", s, CPU, CUDA)
	}
}

// DefaultDevice is the device a binary uses when none is asked for: the
// only one it can run on.
func DefaultDevice() Device {
	if CUDAEnabled() {
		return CUDA
	}
	return CPU
}

// String returns the device name as ParseDevice accepts it.
func (d Device) String() string { return string(d) }

// NewMachine compiles g into a TapeMachine for dev. The caller must Close the
// VM: in cuda builds that frees the GPU contexts, which otherwise wait for a
// finaliser. Gorgonia panics on compile errors and CUDA initialisation
// failures; those come back as errors.
func NewMachine(g *gorgonia.ExprGraph, dev Device, opts ...gorgonia.VMOpt) (vm gorgonia.VM, err error) {
	if g == nil {
		return nil, errors.New("new machine: graph is nil")
	}
	if err := checkDevice(dev); err != nil {
		return nil, fmt.Errorf("new machine: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			vm = nil
			err = fmt.Errorf("new machine on %s: gorgonia could not compile or start the graph: %v%s", dev, r, machineFailureHint())
		}
	}()
	return newTapeMachine(g, opts...), nil
}

// MisplacedTagHint explains the mistake when args (os.Args[1:]) carry -tags,
// a flag of the go command that ended up after the package path. It returns
// "" when there is nothing to explain.
func MisplacedTagHint(args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(a, "=")
		if name == "-tags" || name == "--tags" {
			return "-tags is a flag of the go command, not of this program: " +
				"run `go run -tags cuda ./cmd/train ...` (the -tags flag goes before the package path)"
		}
	}
	return ""
}
