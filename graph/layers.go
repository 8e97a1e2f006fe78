package graph

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/graph/ops"
)

// Activation names an element-wise non-linearity. It is an alias of
// ops.Activation, not a type of its own, because the fused ops (package
// graph/ops) take it as a parameter and graph imports ops: one type keeps a
// layer's activation usable by its op without conversion, and the constants
// below are the same values under the names callers already use.
type Activation = ops.Activation

// The activations a layer may use.
const (
	ReLU     = ops.ReLU
	Sigmoid  = ops.Sigmoid
	Tanh     = ops.Tanh
	Identity = ops.Identity
)

// activations lists the valid activation names, for error messages.
var activations = []Activation{ReLU, Sigmoid, Tanh, Identity}

// ParseActivation checks an activation name.
func ParseActivation(s string) (Activation, error) {
	for _, a := range activations {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown activation %q (valid: relu, sigmoid, tanh, identity)", s)
}

// Dense is a fully connected layer y = act(x·W + b) with W of shape in×out.
type Dense struct {
	In, Out int
	W, B    *Param
	Act     Activation
}

// NewDense creates the layer's parameters NAME.w and NAME.b in ps.
func NewDense(ps *Params, name string, in, out int, act Activation, rng *rand.Rand) (*Dense, error) {
	wInit, bInit := ps.Scheme.inits(act)
	w, err := ps.New(name+".w", []int{in, out}, wInit, in, out, rng)
	if err != nil {
		return nil, err
	}
	b, err := ps.New(name+".b", []int{out}, bInit, in, out, rng)
	if err != nil {
		return nil, err
	}
	return &Dense{In: in, Out: out, W: w, B: b, Act: act}, nil
}

// Forward builds act(x·W + b) for x of shape batch×In.
func (d *Dense) Forward(ps *Params, x *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != d.In {
		return nil, fmt.Errorf("dense %s: input shape %v, want (batch, %d)", d.W.Name, x.Shape(), d.In)
	}
	g := x.Graph()
	if x.Dtype() == G.Float32 && !device.CUDAEnabled() {
		// One fused op: a GEMM plus one pass for bias and activation, with a
		// hand-written backward pass (ops.DenseAct). It is a CPU op, so
		// CUDA builds keep Gorgonia's GPU-capable Mul and BroadcastAdd.
		y, err := ops.DenseAct(x, ps.Node(g, d.W), ps.Node(g, d.B), d.Act)
		if err != nil {
			return nil, fmt.Errorf("dense %s: %w", d.W.Name, err)
		}
		return y, nil
	}
	xw, err := G.Mul(x, ps.Node(g, d.W))
	if err != nil {
		return nil, fmt.Errorf("dense %s: %w", d.W.Name, err)
	}
	y, err := G.BroadcastAdd(xw, ps.Node(g, d.B), nil, []byte{0})
	if err != nil {
		return nil, fmt.Errorf("dense %s bias: %w", d.W.Name, err)
	}
	return d.Act.Apply(y)
}

// MLP is a stack of Dense layers.
type MLP []*Dense

// NewMLP creates layers sizes[0]→sizes[1]→…; hidden layers use act and the
// last one uses last.
func NewMLP(ps *Params, name string, sizes []int, act, last Activation, rng *rand.Rand) (MLP, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("mlp %s: need at least two sizes, got %v", name, sizes)
	}
	var m MLP
	for i := 0; i+1 < len(sizes); i++ {
		a := act
		if i+2 == len(sizes) {
			a = last
		}
		d, err := NewDense(ps, fmt.Sprintf("%s.%d", name, i), sizes[i], sizes[i+1], a, rng)
		if err != nil {
			return nil, err
		}
		m = append(m, d)
	}
	return m, nil
}

// Forward runs x through every layer.
func (m MLP) Forward(ps *Params, x *G.Node) (*G.Node, error) {
	var err error
	for _, d := range m {
		if x, err = d.Forward(ps, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}
