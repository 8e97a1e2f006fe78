package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// Reshape is a reshape that copies. Gorgonia's Reshape returns a node that
// shares its input's memory without telling the compiler, so an in-place op
// after it (Square, Sub, …) can overwrite an activation whose gradient
// still needs it: tanh → Reshape → Square gave wrong gradients. Copying
// costs little next to a convolution and keeps every gradient exact.
func Reshape(x *G.Node, shape ...int) (*G.Node, error) {
	from := x.Shape().Clone()
	if tensor.Shape(shape).TotalSize() != from.TotalSize() {
		return nil, fmt.Errorf("reshape: cannot reshape %v (%d values) to %v", from, from.TotalSize(), shape)
	}
	return G.ApplyOp(&reshapeOp{from: from, to: append([]int(nil), shape...)}, x)
}

// reshapeOp copies its input into a tensor of shape to: an op-owned buffer
// reused on every run for float32 (see ownBuf), a fresh one for float64.
type reshapeOp struct {
	from, to tensor.Shape
	buf      *tensor.Dense
}

func (op *reshapeOp) Arity() int { return 1 }

func (op *reshapeOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: len(op.from), Of: a}, G.TensorType{Dims: len(op.to), Of: a})
}

func (op *reshapeOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.to.Clone(), nil }

func (op *reshapeOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("reshape: %d inputs, want 1", len(inputs))
	}
	in, ok := inputs[0].(*tensor.Dense)
	if !ok || in.Shape().TotalSize() != op.from.TotalSize() {
		return nil, fmt.Errorf("reshape: input is not a dense tensor of shape %v", op.from)
	}
	if in.IsView() {
		in = in.Materialize().(*tensor.Dense)
	}
	switch d := in.Data().(type) {
	case []float32:
		out := ownBuf(&op.buf, op.to...)
		kernels.Copy(out.Float32s(), d) // on every core: a serial copy left the other waiting
		return out, nil
	case []float64:
		return tensor.New(tensor.WithShape(op.to...), tensor.WithBacking(append([]float64(nil), d...))), nil
	}
	return nil, fmt.Errorf("reshape: unsupported dtype %v", in.Dtype())
}

func (op *reshapeOp) ReturnsPtr() bool      { return false }
func (op *reshapeOp) CallsExtern() bool     { return false }
func (op *reshapeOp) OverwritesInput() int  { return -1 }
func (op *reshapeOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *reshapeOp) String() string        { return fmt.Sprintf("CopyReshape{%v→%v}", op.from, op.to) }

func (op *reshapeOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *reshapeOp) DiffWRT(int) []bool { return []bool{true} }

func (op *reshapeOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&reshapeOp{from: op.to, to: op.from}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// Upsample resizes an NCHW node to N×C×h×w by nearest neighbour: output
// pixel (i, j) copies input pixel (⌊i·H/h⌋, ⌊j·W/w⌋). For h = 2H it is
// Gorgonia's Upsample2D(x, 2); other sizes let a decoder reach image sizes
// that are not a power of two (7 → 14 → 28, or 8 → 15 → 30). Gorgonia's
// Upsample2D reads and writes one boxed element at a time, which dominated
// the conv kinds' step time; this op works on the raw slices.
func Upsample(x *G.Node, h, w int) (*G.Node, error) {
	s := x.Shape()
	if x.Dims() != 4 {
		return nil, fmt.Errorf("upsample: input shape %v, want (batch, channels, height, width)", s)
	}
	if h < s[2] || w < s[3] {
		return nil, fmt.Errorf("upsample: cannot shrink %d×%d to %d×%d", s[2], s[3], h, w)
	}
	return G.ApplyOp(&upsampleOp{inH: s[2], inW: s[3], outH: h, outW: w}, x)
}

// upsampleOp is nearest-neighbour resizing; upsampleGradOp (grad = true)
// is its adjoint, summing each output gradient into its source pixel.
type upsampleOp struct {
	inH, inW, outH, outW int
	grad                 bool
	src                  []int         // srcIndex, built on first use
	buf                  *tensor.Dense // float32 output, reused on every run (see ownBuf)
}

func (op *upsampleOp) Arity() int { return 1 }

func (op *upsampleOp) Type() hm.Type {
	t := G.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}

func (op *upsampleOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	s, ok := inputs[0].(tensor.Shape)
	if !ok || len(s) != 4 {
		return nil, fmt.Errorf("upsample: input shape %v, want 4 dimensions", inputs[0])
	}
	if op.grad {
		return tensor.Shape{s[0], s[1], op.inH, op.inW}, nil
	}
	return tensor.Shape{s[0], s[1], op.outH, op.outW}, nil
}

func (op *upsampleOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("upsample: %d inputs, want 1", len(inputs))
	}
	in, ok := inputs[0].(tensor.Tensor)
	if !ok || in.Dims() != 4 {
		return nil, fmt.Errorf("upsample: input is not a 4-dimensional tensor")
	}
	s := in.Shape()
	n, c := s[0], s[1]
	planes := n * c
	if op.src == nil {
		op.src = op.srcIndex()
	}
	shape := op.outShape(n, c)
	switch data := in.Data().(type) {
	case []float32:
		out := ownBuf(&op.buf, shape...)
		if op.outH == 2*op.inH && op.outW == 2*op.inW {
			double2x(out.Float32s(), data, planes, op.inH, op.inW, op.grad)
			return out, nil
		}
		resample(out.Float32s(), data, planes, op.src, op.inH*op.inW, op.outH*op.outW, op.grad)
		return out, nil
	case []float64:
		out := make([]float64, tensor.Shape(shape).TotalSize())
		resample(out, data, planes, op.src, op.inH*op.inW, op.outH*op.outW, op.grad)
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	}
	return nil, fmt.Errorf("upsample: unsupported dtype %v", in.Dtype())
}

func (op *upsampleOp) outShape(n, c int) []int {
	if op.grad {
		return []int{n, c, op.inH, op.inW}
	}
	return []int{n, c, op.outH, op.outW}
}

// srcIndex maps every pixel of an output plane to its source pixel in the
// input plane.
func (op *upsampleOp) srcIndex() []int {
	idx := make([]int, op.outH*op.outW)
	for i := range op.outH {
		si := i * op.inH / op.outH
		for j := range op.outW {
			idx[i*op.outW+j] = si*op.inW + j*op.inW/op.outW
		}
	}
	return idx
}

// resample gathers (forward) or scatter-adds (adjoint) planes through src
// into out, which it overwrites.
func resample[T float32 | float64](out, data []T, planes int, src []int, inSize, outSize int, adjoint bool) {
	if adjoint {
		clear(out)
		for p := range planes {
			o, g := out[p*inSize:(p+1)*inSize], data[p*outSize:(p+1)*outSize]
			for k, s := range src {
				o[s] += g[k]
			}
		}
		return
	}
	for p := range planes {
		o, in := out[p*outSize:(p+1)*outSize], data[p*inSize:(p+1)*inSize]
		for k, s := range src {
			o[k] = in[s]
		}
	}
}

// double2x is resample for the conv decoders' exact doubling (7→14,
// 14→28), without the index table: forward writes each value twice and
// copies the row; the adjoint sums each 2×2 block in the order resample
// adds it (row 2r, then row 2r+1), so both give resample's values bit for bit.
func double2x(out, data []float32, planes, inH, inW int, adjoint bool) {
	outW, inSize, outSize := 2*inW, inH*inW, 4*inH*inW
	for p := range planes {
		if adjoint {
			g, o := data[p*outSize:(p+1)*outSize], out[p*inSize:(p+1)*inSize]
			for r := range inH {
				g0, g1, or := g[2*r*outW:(2*r+1)*outW], g[(2*r+1)*outW:(2*r+2)*outW], o[r*inW:(r+1)*inW]
				for j := range or {
					or[j] = g0[2*j] + g0[2*j+1] + g1[2*j] + g1[2*j+1]
				}
			}
			continue
		}
		in, o := data[p*inSize:(p+1)*inSize], out[p*outSize:(p+1)*outSize]
		for r := range inH {
			row0, row1 := o[2*r*outW:(2*r+1)*outW], o[(2*r+1)*outW:(2*r+2)*outW]
			for j, v := range in[r*inW : (r+1)*inW] {
				row0[2*j], row0[2*j+1] = v, v
			}
			copy(row1, row0)
		}
	}
}

func (op *upsampleOp) ReturnsPtr() bool     { return false }
func (op *upsampleOp) CallsExtern() bool    { return false }
func (op *upsampleOp) OverwritesInput() int { return -1 }

func (op *upsampleOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }

func (op *upsampleOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *upsampleOp) String() string {
	if op.grad {
		return fmt.Sprintf("UpsampleGrad{%d×%d←%d×%d}", op.inH, op.inW, op.outH, op.outW)
	}
	return fmt.Sprintf("Upsample{%d×%d→%d×%d}", op.inH, op.inW, op.outH, op.outW)
}

func (op *upsampleOp) DiffWRT(inputs int) []bool { return []bool{!op.grad} }

func (op *upsampleOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, fmt.Errorf("upsample: the adjoint is not differentiable")
	}
	adj := upsampleOp{inH: op.inH, inW: op.inW, outH: op.outH, outW: op.outW, grad: true}
	dx, err := G.ApplyOp(&adj, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
