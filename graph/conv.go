package graph

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/graph/ops"
)

// Conv2d is a square-kernel convolution y = act(W ⋆ x + b) over NCHW
// batches, with W of shape OutC×InC×K×K and one bias per output channel.
type Conv2d struct {
	InC, OutC, Kernel, Stride, Pad int
	W, B                           *Param
	Act                            Activation
}

// NewConv2d creates the layer's parameters NAME.w and NAME.b in ps.
func NewConv2d(ps *Params, name string, inC, outC, kernel, stride, pad int, act Activation, rng *rand.Rand) (*Conv2d, error) {
	if inC <= 0 || outC <= 0 || kernel <= 0 || stride <= 0 || pad < 0 {
		return nil, fmt.Errorf("conv %s: channels %d→%d, kernel %d, stride %d, pad %d: sizes must be positive (pad non-negative)", name, inC, outC, kernel, stride, pad)
	}
	fanIn, fanOut := inC*kernel*kernel, outC*kernel*kernel
	wInit, bInit := ps.Scheme.inits(act)
	w, err := ps.New(name+".w", []int{outC, inC, kernel, kernel}, wInit, fanIn, fanOut, rng)
	if err != nil {
		return nil, err
	}
	b, err := ps.New(name+".b", []int{outC}, bInit, fanIn, fanOut, rng)
	if err != nil {
		return nil, err
	}
	return &Conv2d{InC: inC, OutC: outC, Kernel: kernel, Stride: stride, Pad: pad, W: w, B: b, Act: act}, nil
}

// OutSize is the spatial size of the output for an h×w input:
// ⌊(h + 2·pad − k)/stride⌋ + 1. It is an error for the kernel to be larger
// than the padded input.
func (c *Conv2d) OutSize(h, w int) (int, int, error) {
	if h+2*c.Pad < c.Kernel || w+2*c.Pad < c.Kernel {
		return 0, 0, fmt.Errorf("conv %s: input %d×%d is smaller than the %d×%d kernel (padding %d)", c.W.Name, h, w, c.Kernel, c.Kernel, c.Pad)
	}
	return (h+2*c.Pad-c.Kernel)/c.Stride + 1, (w+2*c.Pad-c.Kernel)/c.Stride + 1, nil
}

// Forward builds act(W ⋆ x + b) for x of shape N×InC×H×W.
func (c *Conv2d) Forward(ps *Params, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if x.Dims() != 4 || s[1] != c.InC {
		return nil, fmt.Errorf("conv %s: input shape %v, want (batch, %d, height, width)", c.W.Name, s, c.InC)
	}
	if _, _, err := c.OutSize(s[2], s[3]); err != nil {
		return nil, err
	}
	g := x.Graph()
	if x.Dtype() == tensor.Float32 {
		act := c.Act
		if act == "" {
			act = Identity
		}
		y, err := ops.Conv2dAct(x, ps.Node(g, c.W), ps.Node(g, c.B), c.Stride, c.Pad, act)
		if err != nil {
			return nil, fmt.Errorf("conv %s: %w", c.W.Name, err)
		}
		return y, nil
	}
	y, err := G.Conv2d(x, ps.Node(g, c.W), tensor.Shape{c.Kernel, c.Kernel}, []int{c.Pad, c.Pad}, []int{c.Stride, c.Stride}, []int{1, 1})
	if err != nil {
		return nil, fmt.Errorf("conv %s: %w", c.W.Name, err)
	}
	// The bias (OutC) is broadcast over batch, height and width.
	y, err = G.BroadcastAdd(y, ps.Node(g, c.B), nil, []byte{0, 2, 3})
	if err != nil {
		return nil, fmt.Errorf("conv %s bias: %w", c.W.Name, err)
	}
	return c.Act.Apply(y)
}

// UpsampleForward builds c applied to x upsampled to h×w by nearest
// neighbour: the conv decoder's "Upsample → Conv" stage. When the upsample
// doubles both sides and c is a 3×3, stride-1, padding-1 float32
// convolution on the CPU, the two are one phase-decomposed convolution
// over x (ops.UpsampleConv2dAct: 16 instead of 36 multiply-adds per output
// pixel and channel pair, no upsampled image); otherwise Upsample then
// Forward.
func (c *Conv2d) UpsampleForward(ps *Params, x *G.Node, h, w int) (*G.Node, error) {
	s := x.Shape()
	if x.Dims() == 4 && s[1] == c.InC && h == 2*s[2] && w == 2*s[3] && c.Kernel == 3 && c.Stride == 1 && c.Pad == 1 &&
		x.Dtype() == tensor.Float32 && !device.CUDAEnabled() {
		act := c.Act
		if act == "" {
			act = Identity
		}
		g := x.Graph()
		y, err := ops.UpsampleConv2dAct(x, ps.Node(g, c.W), ps.Node(g, c.B), act)
		if err != nil {
			return nil, fmt.Errorf("conv %s: %w", c.W.Name, err)
		}
		return y, nil
	}
	up, err := Upsample(x, h, w)
	if err != nil {
		return nil, err
	}
	return c.Forward(ps, up)
}

// Flatten reshapes an N×… node to N×(product of the rest).
func Flatten(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if x.Dims() < 2 {
		return nil, fmt.Errorf("flatten: input shape %v has no batch axis", s)
	}
	return Reshape(x, s[0], s.TotalSize()/s[0])
}

// Unflatten reshapes an N×(C·H·W) node to N×C×H×W.
func Unflatten(x *G.Node, c, h, w int) (*G.Node, error) {
	s := x.Shape()
	if x.Dims() != 2 || s[1] != c*h*w {
		return nil, fmt.Errorf("unflatten: input shape %v, want (batch, %d) for %d×%d×%d", s, c*h*w, c, h, w)
	}
	return Reshape(x, s[0], c, h, w)
}

// Reshape is a reshape that copies (see ops.Reshape for why it copies).
func Reshape(x *G.Node, shape ...int) (*G.Node, error) { return ops.Reshape(x, shape...) }

// Upsample resizes an NCHW node to N×C×h×w by nearest neighbour (see
// ops.Upsample).
func Upsample(x *G.Node, h, w int) (*G.Node, error) { return ops.Upsample(x, h, w) }
