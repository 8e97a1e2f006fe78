package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// MSELoss adds one fused node computing mean((pred-target)²) over all elements.
// Its gradient node computes 2·g·(pred-target)/N in a single pass; target gets
// no gradient (it is data).
func MSELoss(pred, target *gorgonia.Node) (*gorgonia.Node, error) {
	if !pred.Shape().Eq(target.Shape()) {
		return nil, fmt.Errorf("mse loss: prediction %v and target %v must have the same shape", pred.Shape(), target.Shape())
	}
	if pred.Dtype() != tensor.Float32 || target.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("mse loss: prediction and target must be float32, got %v and %v", pred.Dtype(), target.Dtype())
	}
	n, err := gorgonia.ApplyOp(&mseOp{dims: pred.Shape().Dims()}, pred, target)
	if err != nil {
		return nil, fmt.Errorf("mse loss: %w", err)
	}
	return n, nil
}

type mseOp struct {
	dims int
	out  gorgonia.F32
}

func (op *mseOp) Arity() int { return 2 }
func (op *mseOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.dims, Of: a}
	return hm.NewFnType(t, t, a)
}
func (op *mseOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *mseOp) ReturnsPtr() bool      { return false }
func (op *mseOp) CallsExtern() bool     { return false }
func (op *mseOp) OverwritesInput() int  { return -1 }
func (op *mseOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *mseOp) Hashcode() uint32      { return hashOf(op) }
func (op *mseOp) String() string        { return fmt.Sprintf("MSELoss{%dd}", op.dims) }

func (op *mseOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	p, t, err := lossInputs("mse loss", in, 2)
	if err != nil {
		return nil, err
	}
	op.out = gorgonia.F32(kernels.SqDiffSum(p, t) / float64(len(p)))
	return &op.out, nil
}

func (op *mseOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *mseOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity("mse loss gradient", 2, len(inputs)); err != nil {
		return nil, err
	}
	d, err := gorgonia.ApplyOp(&mseGradOp{dims: op.dims}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("mse loss gradient: %w", err)
	}
	return gorgonia.Nodes{d, nil}, nil
}

// mseGradOp: dpred = g·2·(pred-target)/N.
type mseGradOp struct {
	dims int
	out  *tensor.Dense
}

func (op *mseGradOp) Arity() int { return 3 }
func (op *mseGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.dims, Of: a}
	return hm.NewFnType(t, t, a, t)
}
func (op *mseGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("mse loss gradient: want a shape, got %v", in[0])
	}
	return s.Clone(), nil
}
func (op *mseGradOp) ReturnsPtr() bool      { return false }
func (op *mseGradOp) CallsExtern() bool     { return false }
func (op *mseGradOp) OverwritesInput() int  { return -1 }
func (op *mseGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *mseGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *mseGradOp) String() string        { return fmt.Sprintf("MSELossGrad{%dd}", op.dims) }
func (op *mseGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	p, t, err := lossInputs("mse loss gradient", in, 3)
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(in[2])
	if err != nil {
		return nil, fmt.Errorf("mse loss gradient: %w", err)
	}
	out := ownBuf(&op.out, in[0].Shape()...)
	d := out.Float32s()[:len(p)]
	s := 2 * g / float32(len(p))
	kernels.ParallelFor(len(p), len(p), func(lo, hi int) {
		dd, tt := d[lo:hi], t[lo:hi]
		for i, v := range p[lo:hi] {
			dd[i] = s * (v - tt[i])
		}
	})
	return out, nil
}

// lossInputs checks and unpacks the float32 prediction and target of a
// fused loss node (or its gradient) with arity inputs; t is cut to len(p).
func lossInputs(what string, in []gorgonia.Value, arity int) (p, t []float32, err error) {
	if err := checkArity(what, arity, len(in)); err != nil {
		return nil, nil, err
	}
	if p, _, err = f32s(in[0], what+" prediction"); err != nil {
		return nil, nil, err
	}
	if t, _, err = f32s(in[1], what+" target"); err != nil {
		return nil, nil, err
	}
	if len(p) != len(t) || len(p) == 0 {
		return nil, nil, fmt.Errorf("%s: prediction has %d values, target %d: need equal, non-zero", what, len(p), len(t))
	}
	return p, t[:len(p)], nil
}

func scalarOf(v gorgonia.Value) (float32, error) {
	switch s := v.(type) {
	case *gorgonia.F32:
		return float32(*s), nil
	case *tensor.Dense:
		if d, ok := s.Data().([]float32); ok && len(d) == 1 {
			return d[0], nil
		}
		if d, ok := s.Data().(float32); ok {
			return d, nil
		}
	}
	return 0, fmt.Errorf("incoming gradient must be a float32 scalar, got %T", v)
}
