package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// UpsampleConv2dAct adds the nodes computing act(W ⋆ up(x) + b), where up
// doubles both sides of x (N×C×H×W) by nearest neighbour and W (OutC×C×3×3)
// is a stride-1 convolution with padding 1: the conv decoder's
// "Upsample → Conv" stage, without ever building the upsampled image.
//
// Output pixel (2i+a, 2j+b) sees the upsampled rows 2i+a−1 … 2i+a+1, which
// are input rows i−1, i, i (a = 0) or i, i, i+1 (a = 1), and the same for
// columns: each of the four phases (a, b) is a 2×2 convolution of x with
// the 3×3 kernel's taps summed onto it. The four phases' kernels are stacked
// as 4·OutC output channels of one convolution (Conv2dAct, kernel 2, padding
// 1, output (H+1)×(W+1)), whose outputs are then interleaved: 16 multiply-
// adds per output pixel and input channel instead of 9·4 = 36 on the
// upsampled image, an im2col matrix a seventh the size, and no upsampling
// pass. Bias and activation are applied by the convolution: both commute
// with the interleaving. The weights keep their 3×3 shape (checkpoints do
// not change); gradients flow back through the tap sums.
func UpsampleConv2dAct(x, w, b *gorgonia.Node, act Activation) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 || ws[2] != 3 || ws[3] != 3 || ws[1] != xs[1] {
		return nil, fmt.Errorf("upsample conv: x %v must be N×C×H×W and w %v OutC×C×3×3", xs, ws)
	}
	if b.Shape().TotalSize() != ws[0] || b.Dims() != 1 {
		return nil, fmt.Errorf("upsample conv: bias %v must have one value per output channel (%d)", b.Shape(), ws[0])
	}
	if x.Dtype() != tensor.Float32 || w.Dtype() != tensor.Float32 || b.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("upsample conv: x, w, b must be float32, got %v, %v, %v", x.Dtype(), w.Dtype(), b.Dtype())
	}
	outC, inC, h, wd := ws[0], ws[1], xs[2], xs[3]
	wp, err := gorgonia.ApplyOp(&phaseOp{kind: phaseWeights, c: outC, inC: inC}, w)
	if err != nil {
		return nil, fmt.Errorf("upsample conv weights: %w", err)
	}
	bp, err := gorgonia.ApplyOp(&phaseOp{kind: phaseBias, c: outC}, b)
	if err != nil {
		return nil, fmt.Errorf("upsample conv bias: %w", err)
	}
	y4, err := Conv2dAct(x, wp, bp, 1, 1, act)
	if err != nil {
		return nil, fmt.Errorf("upsample conv: %w", err)
	}
	y, err := gorgonia.ApplyOp(&phaseOp{kind: phaseShuffle, c: outC, h: h, w: wd}, y4)
	if err != nil {
		return nil, fmt.Errorf("upsample conv interleave: %w", err)
	}
	return y, nil
}

// The three linear maps of UpsampleConv2dAct, each with its adjoint (the
// same op with adjoint set) as its gradient.
const (
	// phaseWeights: OutC×C×3×3 → 4·OutC×C×2×2, the taps summed per phase.
	phaseWeights = iota
	// phaseBias: OutC → 4·OutC, the bias once per phase.
	phaseBias
	// phaseShuffle: N×4·C×(H+1)×(W+1) → N×C×2H×2W, the phases interleaved.
	phaseShuffle
)

// phaseTap is the row (or column) r of a phase's 2×2 kernel that the 3×3
// kernel's row k falls on, for phase a: a = 0 reads input rows i−1, i, i
// (taps 0 | 1, 2), a = 1 rows i, i, i+1 (taps 0, 1 | 2).
var phaseTap = [2][3]int{{0, 1, 1}, {0, 0, 1}}

type phaseOp struct {
	kind    int
	adjoint bool
	c, inC  int // output channels of the convolution (before the ×4); input channels
	h, w    int // phaseShuffle: the input image's sides
	out     *tensor.Dense
}

func (op *phaseOp) dims() int {
	if op.kind == phaseBias {
		return 1
	}
	return 4
}

// shapes are the op's input and output shapes for a batch of n (forward).
func (op *phaseOp) shapes(n int) (in, out tensor.Shape) {
	switch op.kind {
	case phaseWeights:
		in, out = tensor.Shape{op.c, op.inC, 3, 3}, tensor.Shape{4 * op.c, op.inC, 2, 2}
	case phaseBias:
		in, out = tensor.Shape{op.c}, tensor.Shape{4 * op.c}
	default:
		in, out = tensor.Shape{n, 4 * op.c, op.h + 1, op.w + 1}, tensor.Shape{n, op.c, 2 * op.h, 2 * op.w}
	}
	if op.adjoint {
		return out, in
	}
	return in, out
}

// outShape checks an input shape s (the batch, if any, is its first axis)
// and returns the output's.
func (op *phaseOp) outShape(s tensor.Shape) (tensor.Shape, error) {
	n := 0
	if len(s) == 4 {
		n = s[0]
	}
	want, out := op.shapes(n)
	if !s.Eq(want) {
		return nil, fmt.Errorf("%s: input %v, want %v", op, s, want)
	}
	return out, nil
}

func (op *phaseOp) Arity() int { return 1 }
func (op *phaseOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.dims(), Of: a}
	return hm.NewFnType(t, t)
}
func (op *phaseOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s: want a shape, got %v", op, in[0])
	}
	return op.outShape(s)
}
func (op *phaseOp) ReturnsPtr() bool      { return false }
func (op *phaseOp) CallsExtern() bool     { return false }
func (op *phaseOp) OverwritesInput() int  { return -1 }
func (op *phaseOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *phaseOp) Hashcode() uint32      { return hashOf(op) }
func (op *phaseOp) String() string {
	name := [...]string{"PhaseWeights", "PhaseBias", "PhaseShuffle"}[op.kind]
	if op.adjoint {
		name += "Adjoint"
	}
	return fmt.Sprintf("%s{%d,%d,%dx%d}", name, op.c, op.inC, op.h, op.w)
}

func (op *phaseOp) DiffWRT(int) []bool { return []bool{true} }

func (op *phaseOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity(op.String()+" gradient", 1, len(inputs)); err != nil {
		return nil, err
	}
	adj := *op
	adj.adjoint, adj.out = !op.adjoint, nil
	d, err := gorgonia.ApplyOp(&adj, grad)
	if err != nil {
		return nil, fmt.Errorf("%s gradient: %w", op, err)
	}
	return gorgonia.Nodes{d}, nil
}

func (op *phaseOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity(op.String(), 1, len(in)); err != nil {
		return nil, err
	}
	src, s, err := f32s(in[0], op.String())
	if err != nil {
		return nil, err
	}
	outShape, err := op.outShape(s)
	if err != nil {
		return nil, err
	}
	out := ownBuf(&op.out, outShape...)
	dst := out.Float32s()
	switch op.kind {
	case phaseWeights:
		op.weights(src, dst)
	case phaseBias:
		if op.adjoint {
			clear(dst)
		}
		for p := range 4 {
			if op.adjoint {
				kernels.AddTo(dst, src[p*op.c:(p+1)*op.c])
			} else {
				copy(dst[p*op.c:], src)
			}
		}
	default:
		op.shuffle(src, dst, s[0])
	}
	return out, nil
}

// weights sums the 3×3 taps onto each phase's 2×2 kernel (forward), or
// gathers each tap's gradient from the four phases (adjoint).
func (op *phaseOp) weights(src, dst []float32) {
	c, inC := op.c, op.inC
	clear(dst)
	for a := range 2 {
		for b := range 2 {
			p := 2*a + b
			for o := range c {
				for i := range inC {
					w3 := ((o * inC) + i) * 9
					w2 := ((p*c+o)*inC + i) * 4
					for ki := range 3 {
						for kj := range 3 {
							t := w2 + phaseTap[a][ki]*2 + phaseTap[b][kj]
							if op.adjoint {
								dst[w3+ki*3+kj] += src[t]
							} else {
								dst[t] += src[w3+ki*3+kj]
							}
						}
					}
				}
			}
		}
	}
}

// shuffle interleaves the phases, out[n, c, 2i+a, 2j+b] = y[n, (2a+b)·C+c,
// i+a, j+b] (forward), or scatters the gradient back, zero where no output
// pixel read (adjoint).
func (op *phaseOp) shuffle(src, dst []float32, n int) {
	c, h, w := op.c, op.h, op.w
	ph, pw := h+1, w+1
	small, big := 4*c*ph*pw, c*4*h*w // values per image: phases, interleaved
	kernels.ParallelFor(n, n*big, func(lo, hi int) {
		for img := lo; img < hi; img++ {
			var y, o []float32
			if op.adjoint {
				y, o = dst[img*small:(img+1)*small], src[img*big:(img+1)*big]
				clear(y)
			} else {
				y, o = src[img*small:(img+1)*small], dst[img*big:(img+1)*big]
			}
			// Phases (a, 0) and (a, 1) fill output row 2i+a's even and odd
			// columns: one pass writes (or reads) the row in order.
			for a := range 2 {
				for ch := range c {
					y0 := y[((2*a)*c+ch)*ph*pw:]
					y1 := y[((2*a+1)*c+ch)*ph*pw:]
					oc := o[ch*4*h*w:]
					for i := range h {
						r0 := y0[(i+a)*pw : (i+a)*pw+w]
						r1 := y1[(i+a)*pw+1 : (i+a)*pw+1+w]
						or := oc[(2*i+a)*2*w : (2*i+a)*2*w+2*w]
						if op.adjoint {
							for j := range r0 {
								r0[j], r1[j] = or[2*j], or[2*j+1]
							}
						} else {
							for j := range r0 {
								or[2*j], or[2*j+1] = r0[j], r1[j]
							}
						}
					}
				}
			}
		}
	})
}
