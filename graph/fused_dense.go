package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fusedActOK reports whether DenseAct implements act (Activation and its
// constants ReLU, Sigmoid, Tanh, Identity are defined in layers.go).
func fusedActOK(act Activation) bool {
	switch act {
	case ReLU, Sigmoid, Tanh, Identity:
		return true
	}
	return false
}

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
	ws        gemmScratch
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
	sgemm(false, false, m, n, k, x, k, w, n, 0, y, n, &op.ws)
	biasAct(y, b, m, n, op.act)
	return out, nil
}

// biasAct adds b to every row of y (m×n) and applies act, in one pass split
// across cores for large batches.
func biasAct(y, b []float32, m, n int, act Activation) {
	b = b[:n]
	parallelFor(m, m*n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			biasActRow(y[i*n:i*n+n], b, act)
		}
	})
}

func biasActRow(row, b []float32, act Activation) {
	j := 0
	if hasAVX2FMA && len(row) >= 8 {
		j = len(row) &^ 7
		switch act {
		case ReLU:
			reluBiasAVX2(&row[0], &b[0], j)
		case Sigmoid:
			sigmoidBiasAVX2(&row[0], &b[0], j)
		default:
			j = 0
		}
	}
	b = b[j:len(row)]
	row = row[j:]
	switch act {
	case ReLU:
		for j, bj := range b {
			row[j] = max(row[j]+bj, 0)
		}
	case Sigmoid:
		for j, bj := range b {
			row[j] = sigmoid32(row[j] + bj)
		}
	case Tanh:
		for j, bj := range b {
			row[j] = tanh32(row[j] + bj)
		}
	default:
		for j, bj := range b {
			row[j] += bj
		}
	}
}

// sigmoid32 is 1/(1+e^-z) with a float32 exp. z is clamped to ±80 (the
// result is then within 2e-35 of 0 or 1) so no overflow or subnormal leaks
// into later passes; the assembly kernel does the same.
func sigmoid32(z float32) float32 {
	z = min(max(z, -80), 80)
	return 1 / (1 + exp32(-z))
}

// tanh32 is tanh via 1 - 2/(e^{2z}+1), saturating beyond ±20.
func tanh32(z float32) float32 {
	if z > 20 {
		return 1
	}
	if z < -20 {
		return -1
	}
	if z > -0.05 && z < 0.05 {
		// The exp form cancels badly near 0; the series is exact to float32 here.
		z2 := z * z
		return z * (1 - z2*(1.0/3-z2*(2.0/15)))
	}
	return 1 - 2/(exp32(2*z)+1)
}

// exp32 is e^x for |x| ≤ 88 (Cephes expf: range reduction by ln 2 and a
// degree-5 polynomial, ~1 ulp), several times faster than float64 math.Exp.
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	k := x*log2e + 0.5
	if x < 0 {
		k -= 1
	}
	n := float32(int32(k))
	r := x - n*ln2hi - n*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
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
	parallelFor(len(y), len(y), func(lo, hi int) {
		actGrad(op.act, y[lo:hi], gy[lo:hi], dzAll[lo:hi])
	})
	return out, nil
}

// actGrad writes dz = gy ⊙ act'(y), the derivative expressed through the output y.
func actGrad(act Activation, y, gy, dz []float32) {
	gy, dz = gy[:len(y)], dz[:len(y)]
	if act == Sigmoid || act == Tanh {
		// A saturated sigmoid output times the loss gradient underflows into
		// the subnormal range (about 1e-40 for background pixels after a few
		// epochs), and every product that reads it then runs slowly.
		defer flushSubnormals(dz)
	}
	if hasAVX2FMA && len(y) >= 8 && (act == ReLU || act == Sigmoid) {
		j := len(y) &^ 7
		if act == ReLU {
			reluGradAVX2(&y[0], &gy[0], &dz[0], j)
		} else {
			sigmoidGradAVX2(&y[0], &gy[0], &dz[0], j)
		}
		y, gy, dz = y[j:], gy[j:], dz[j:]
	}
	switch act {
	case ReLU:
		for i, v := range y {
			if v > 0 {
				dz[i] = gy[i]
			} else {
				dz[i] = 0
			}
		}
	case Sigmoid:
		for i, v := range y {
			dz[i] = gy[i] * v * (1 - v)
		}
	case Tanh:
		for i, v := range y {
			dz[i] = gy[i] * (1 - v*v)
		}
	default:
		copy(dz, gy)
	}
}

// flushSubnormals sets values whose exponent bits are zero (subnormals) to 0.
func flushSubnormals(x []float32) {
	for i, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0 {
			x[i] = 0
		}
	}
}

// addTo does dst += src elementwise.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	if hasAVX2FMA && len(dst) >= 8 {
		j := len(dst) &^ 7
		addToAVX2(&dst[0], &src[0], j)
		dst, src = dst[j:], src[j:]
	}
	for j, v := range src {
		dst[j] += v
	}
}

// axpy is dst += alpha·src.
func axpy(dst, src []float32, alpha float32) {
	src = src[:len(dst)]
	if hasAVX2FMA && len(dst) >= 8 {
		j := len(dst) &^ 7
		axpyAVX2(&dst[0], &src[0], j, alpha)
		dst, src = dst[j:], src[j:]
	}
	for j, v := range src {
		dst[j] += alpha * v
	}
}

// dot is Σ a·b.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	if hasAVX2FMA && len(a) >= 16 {
		j := len(a) &^ 15
		s = dotAVX2(&a[0], &b[0], j)
		a, b = a[j:], b[j:]
	}
	for j, v := range a {
		s += v * b[j]
	}
	return s
}

// ---------------------------------------------------------------------------
// matMulOp: c = op(a)·op(b) into an op-owned buffer.

type matMulOp struct {
	transA, transB bool
	out            *tensor.Dense
	ws             gemmScratch
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
	sgemm(op.transA, op.transB, m, n, k, a, as[1], b, bs[1], 0, out.Float32s(), n, &op.ws)
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
		addTo(db, dz[i*n:i*n+n])
	}
	return out, nil
}
