package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// DenseAct adds one fused node computing act(x·w + b) to x's graph.
// x is batch×in, w is in×out, b has out values (shape (out) or (1, out)).
// Forward is one GEMM plus one pass for bias and activation into a buffer
// owned by the op; backward is one elementwise pass (activation derivative),
// two GEMMs (dx, dw) and a column sum (db). The gradient with respect to x is
// produced only when x is itself computed by an op: a leaf x (the data
// placeholder) is treated as data, which saves the largest GEMM of the first layer.
//
// Each fused node writes into a buffer its op owns and reuses on every run: a
// value read after RunAll is valid until the next run (copy it to keep it),
// and one graph must not be run by two machines at once.
func DenseAct(x, w, b *gorgonia.Node, act Activation) (*gorgonia.Node, error) {
	if !fusedActOK(act) {
		return nil, fmt.Errorf("dense layer: activation %q unknown: use relu, sigmoid, tanh or identity", act)
	}
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if xs.Dims() != 2 || ws.Dims() != 2 {
		return nil, fmt.Errorf("dense layer: x %v and w %v must both be matrices", xs, ws)
	}
	if xs[1] != ws[0] {
		return nil, fmt.Errorf("dense layer: x %v has %d columns but w %v has %d rows: they must match", xs, xs[1], ws, ws[0])
	}
	if bs.TotalSize() != ws[1] || !(bs.Dims() == 1 || (bs.Dims() == 2 && bs[0] == 1)) {
		return nil, fmt.Errorf("dense layer: bias %v must be (%d) or (1, %d) to match w %v", bs, ws[1], ws[1], ws)
	}
	if x.Dtype() != tensor.Float32 || w.Dtype() != tensor.Float32 || b.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("dense layer: x, w, b must be float32, got %v, %v, %v", x.Dtype(), w.Dtype(), b.Dtype())
	}
	op := &denseOp{act: act, needDX: x.Op() != nil, biasShape: bs.Clone()}
	n, err := gorgonia.ApplyOp(op, x, w, b)
	if err != nil {
		return nil, fmt.Errorf("dense layer (%s): %w", act, err)
	}
	return n, nil
}

// ---------------------------------------------------------------------------
// shared helpers

// f32s returns the float32 backing of a dense value, or an error naming what
// was wrong. Float32s() reads the backing without the reflection-built slice
// (and its allocation) that Data() makes on every call.
func f32s(v gorgonia.Value, what string) ([]float32, tensor.Shape, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, nil, fmt.Errorf("%s: expected a *tensor.Dense, got %T", what, v)
	}
	if t.Dtype() != tensor.Float32 {
		return nil, nil, fmt.Errorf("%s: expected float32 data, got %v", what, t.Dtype())
	}
	if t.IsScalar() {
		return []float32{t.Data().(float32)}, t.Shape(), nil
	}
	return t.Float32s(), t.Shape(), nil
}

// ownBuf returns the op's output tensor, (re)allocating it only when the
// shape changes, so steady-state runs allocate nothing. The ops deliberately
// do not implement UsePreallocDoer: writing into a register Gorgonia recycled
// from another node would clobber that node's value, whereas op-owned buffers
// keep fused nodes' values readable after RunAll (a plain Gorgonia op later in
// the same graph may still recycle one once its last reader has run).
func ownBuf(buf **tensor.Dense, shape ...int) *tensor.Dense {
	if *buf == nil || !(*buf).Shape().Eq(tensor.Shape(shape)) {
		*buf = tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	return *buf
}

// hashOf is the Hashcode of an op: Gorgonia merges nodes whose op hash and
// children agree, so the hash must cover every field that changes the result.
func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func checkArity(name string, want, got int) error {
	if want != got {
		return fmt.Errorf("%s: expected %d inputs, got %d", name, want, got)
	}
	return nil
}

// ---------------------------------------------------------------------------
// denseOp: y = act(x·w + b)

type denseOp struct {
	act       Activation
	needDX    bool
	biasShape tensor.Shape
	out       *tensor.Dense
	ws        kernels.Scratch
}

func (op *denseOp) Arity() int { return 3 }
func (op *denseOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t2 := gorgonia.TensorType{Dims: 2, Of: a}
	tb := gorgonia.TensorType{Dims: op.biasShape.Dims(), Of: a}
	return hm.NewFnType(t2, t2, tb, t2)
}
func (op *denseOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkArity("dense layer", 3, len(in)); err != nil {
		return nil, err
	}
	xs, ok1 := in[0].(tensor.Shape)
	ws, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 || xs.Dims() != 2 || ws.Dims() != 2 {
		return nil, fmt.Errorf("dense layer: want matrix shapes, got %v and %v", in[0], in[1])
	}
	return tensor.Shape{xs[0], ws[1]}, nil
}
func (op *denseOp) ReturnsPtr() bool     { return false }
func (op *denseOp) CallsExtern() bool    { return false }
func (op *denseOp) OverwritesInput() int { return -1 }
func (op *denseOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "DenseAct{%s,%t,%v}", op.act, op.needDX, op.biasShape)
}
func (op *denseOp) Hashcode() uint32 { return hashOf(op) }
func (op *denseOp) String() string   { return fmt.Sprintf("DenseAct{%s}", op.act) }

func (op *denseOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("dense layer", 3, len(in)); err != nil {
		return nil, err
	}
	x, xs, err := f32s(in[0], "dense layer input x")
	if err != nil {
		return nil, err
	}
	w, ws, err := f32s(in[1], "dense layer weight w")
	if err != nil {
		return nil, err
	}
	b, _, err := f32s(in[2], "dense layer bias b")
	if err != nil {
		return nil, err
	}
	if xs.Dims() != 2 || ws.Dims() != 2 || xs[1] != ws[0] || len(b) != ws[1] {
		return nil, fmt.Errorf("dense layer: shapes x %v, w %v, b (%d) do not fit x·w + b", xs, ws, len(b))
	}
	m, k, n := xs[0], xs[1], ws[1]
	out := ownBuf(&op.out, m, n)
	y := out.Float32s()
	kernels.Sgemm(false, false, m, n, k, x, k, w, n, 0, y, n, &op.ws)
	biasAct(y, b, m, n, op.act)
	return out, nil
}

// biasAct adds b to every row of y (m×n) and applies act, in one pass split
// across cores for large batches.
func biasAct(y, b []float32, m, n int, act Activation) {
	b = b[:n]
	kernels.ParallelFor(m, m*n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			biasActRow(y[i*n:i*n+n], b, act)
		}
	})
}

func biasActRow(row, b []float32, act Activation) {
	switch act {
	case ReLU:
		kernels.BiasReLU(row, b)
	case Sigmoid:
		kernels.BiasSigmoid(row, b)
	case Tanh:
		kernels.BiasTanh(row, b)
	default:
		kernels.BiasAdd(row, b)
	}
}

func (op *denseOp) DiffWRT(inputs int) []bool { return []bool{op.needDX, true, true} }

func (op *denseOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity("dense layer gradient", 3, len(inputs)); err != nil {
		return nil, err
	}
	x, w := inputs[0], inputs[1]
	dz := grad
	if op.act != Identity {
		var err error
		if dz, err = gorgonia.ApplyOp(&actGradOp{act: op.act}, output, grad); err != nil {
			return nil, fmt.Errorf("dense layer gradient (%s derivative): %w", op.act, err)
		}
	}
	var dx *gorgonia.Node
	if op.needDX {
		var err error
		if dx, err = gorgonia.ApplyOp(&matMulOp{transB: true}, dz, w); err != nil {
			return nil, fmt.Errorf("dense layer gradient dx: %w", err)
		}
	}
	dw, err := gorgonia.ApplyOp(&matMulOp{transA: true}, x, dz)
	if err != nil {
		return nil, fmt.Errorf("dense layer gradient dw: %w", err)
	}
	db, err := gorgonia.ApplyOp(&colSumOp{shape: op.biasShape.Clone()}, dz)
	if err != nil {
		return nil, fmt.Errorf("dense layer gradient db: %w", err)
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}

// ---------------------------------------------------------------------------
// actGradOp: dz = gy ⊙ act'(·), with act' written in terms of the output y.

type actGradOp struct {
	act Activation
	out *tensor.Dense
}

func (op *actGradOp) Arity() int { return 2 }
func (op *actGradOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *actGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkArity("activation gradient", 2, len(in)); err != nil {
		return nil, err
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("activation gradient: want a shape, got %v", in[0])
	}
	return s.Clone(), nil
}
func (op *actGradOp) ReturnsPtr() bool      { return false }
func (op *actGradOp) CallsExtern() bool     { return false }
func (op *actGradOp) OverwritesInput() int  { return -1 }
func (op *actGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *actGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *actGradOp) String() string        { return fmt.Sprintf("ActGrad{%s}", op.act) }
func (op *actGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("activation gradient", 2, len(in)); err != nil {
		return nil, err
	}
	y, ys, err := f32s(in[0], "activation gradient output y")
	if err != nil {
		return nil, err
	}
	gy, _, err := f32s(in[1], "activation gradient incoming grad")
	if err != nil {
		return nil, err
	}
	if len(gy) != len(y) {
		return nil, fmt.Errorf("activation gradient: y has %d values, incoming grad %d", len(y), len(gy))
	}
	out := ownBuf(&op.out, ys...)
	dzAll := out.Float32s()[:len(y)]
	gy = gy[:len(y)]
	kernels.ParallelFor(len(y), len(y), func(lo, hi int) {
		actGrad(op.act, y[lo:hi], gy[lo:hi], dzAll[lo:hi])
	})
	return out, nil
}

// actGrad writes dz = gy ⊙ act'(y), the derivative expressed through the output y.
func actGrad(act Activation, y, gy, dz []float32) {
	switch act {
	case ReLU:
		kernels.ReLUGrad(y, gy, dz)
	case Sigmoid:
		kernels.SigmoidGrad(y, gy, dz)
	case Tanh:
		kernels.TanhGrad(y, gy, dz)
	default:
		copy(dz[:len(y)], gy[:len(y)])
	}
	if act == Sigmoid || act == Tanh {
		// A saturated sigmoid output times the loss gradient underflows into
		// the subnormal range (about 1e-40 for background pixels after a few
		// epochs), and every product that reads it then runs slowly.
		kernels.FlushSubnormals(dz[:len(y)])
	}
}

// ---------------------------------------------------------------------------
// matMulOp: c = op(a)·op(b) into an op-owned buffer.

type matMulOp struct {
	transA, transB bool
	out            *tensor.Dense
	ws             kernels.Scratch
}

func (op *matMulOp) Arity() int { return 2 }
func (op *matMulOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *matMulOp) dims(as, bs tensor.Shape) (m, n, k int, err error) {
	if as.Dims() != 2 || bs.Dims() != 2 {
		return 0, 0, 0, fmt.Errorf("%s: want matrices, got %v and %v", op, as, bs)
	}
	m, k = as[0], as[1]
	if op.transA {
		m, k = k, m
	}
	kb, n := bs[0], bs[1]
	if op.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("%s: inner dimensions of %v and %v differ", op, as, bs)
	}
	return m, n, k, nil
}
func (op *matMulOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkArity("fused matmul", 2, len(in)); err != nil {
		return nil, err
	}
	as, _ := in[0].(tensor.Shape)
	bs, _ := in[1].(tensor.Shape)
	m, n, _, err := op.dims(as, bs)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}
func (op *matMulOp) ReturnsPtr() bool      { return false }
func (op *matMulOp) CallsExtern() bool     { return false }
func (op *matMulOp) OverwritesInput() int  { return -1 }
func (op *matMulOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *matMulOp) Hashcode() uint32      { return hashOf(op) }
func (op *matMulOp) String() string {
	return fmt.Sprintf("FusedMatMul{tA=%t,tB=%t}", op.transA, op.transB)
}
func (op *matMulOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("fused matmul", 2, len(in)); err != nil {
		return nil, err
	}
	a, as, err := f32s(in[0], "fused matmul left operand")
	if err != nil {
		return nil, err
	}
	b, bs, err := f32s(in[1], "fused matmul right operand")
	if err != nil {
		return nil, err
	}
	m, n, k, err := op.dims(as, bs)
	if err != nil {
		return nil, err
	}
	out := ownBuf(&op.out, m, n)
	kernels.Sgemm(op.transA, op.transB, m, n, k, a, as[1], b, bs[1], 0, out.Float32s(), n, &op.ws)
	return out, nil
}

// ---------------------------------------------------------------------------
// colSumOp: db[j] = Σ_i dz[i, j], shaped like the bias.

type colSumOp struct {
	shape tensor.Shape
	out   *tensor.Dense
}

func (op *colSumOp) Arity() int { return 1 }
func (op *colSumOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: op.shape.Dims(), Of: a})
}
func (op *colSumOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *colSumOp) ReturnsPtr() bool      { return false }
func (op *colSumOp) CallsExtern() bool     { return false }
func (op *colSumOp) OverwritesInput() int  { return -1 }
func (op *colSumOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *colSumOp) Hashcode() uint32      { return hashOf(op) }
func (op *colSumOp) String() string        { return fmt.Sprintf("ColSum%v", op.shape) }
func (op *colSumOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("column sum", 1, len(in)); err != nil {
		return nil, err
	}
	dz, s, err := f32s(in[0], "column sum input")
	if err != nil {
		return nil, err
	}
	if s.Dims() != 2 || s[1] != op.shape.TotalSize() {
		return nil, fmt.Errorf("column sum: input %v does not fit bias shape %v", s, op.shape)
	}
	out := ownBuf(&op.out, op.shape...)
	db := out.Float32s()
	m, n := s[0], s[1]
	db = db[:n]
	clear(db)
	for i := 0; i < m; i++ {
		kernels.AddTo(db, dz[i*n:i*n+n])
	}
	return out, nil
}
