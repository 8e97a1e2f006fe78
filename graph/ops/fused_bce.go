package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// BCEEps keeps log() finite when a sigmoid output saturates at 0 or 1. The
// fused BCE loss and package graph's element-wise BCE use the same value, so
// both builds of a loss agree.
const BCEEps = 1e-7

// BCELoss adds one fused node computing the binary cross-entropy
//
//	−(1/D) Σ [t·log(p+ε) + (1−t)·log(1−p+ε)]
//
// over every element of pred and target, where D is the batch size (the
// first axis) when perSample is set — the summed BCE per image, the
// reconstruction term of the VAE's ELBO — and the element count otherwise
// (the mean BCE). It computes what BCEElems and a sum or mean compute, in one
// pass forward and one backward instead of ten element-wise Gorgonia ops with
// a buffer each; target gets no gradient (it is data).
func BCELoss(pred, target *gorgonia.Node, perSample bool) (*gorgonia.Node, error) {
	if !pred.Shape().Eq(target.Shape()) {
		return nil, fmt.Errorf("bce loss: prediction %v and target %v must have the same shape", pred.Shape(), target.Shape())
	}
	if pred.Dtype() != tensor.Float32 || target.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("bce loss: prediction and target must be float32, got %v and %v", pred.Dtype(), target.Dtype())
	}
	if pred.Dims() == 0 || pred.Shape().TotalSize() == 0 {
		return nil, fmt.Errorf("bce loss: prediction %v has no elements", pred.Shape())
	}
	div := pred.Shape().TotalSize()
	if perSample {
		div = pred.Shape()[0]
	}
	n, err := gorgonia.ApplyOp(&bceOp{dims: pred.Dims(), div: div}, pred, target)
	if err != nil {
		return nil, fmt.Errorf("bce loss: %w", err)
	}
	return n, nil
}

// bceOp is BCELoss's forward node; div is the divisor D.
type bceOp struct {
	dims, div int
	out       gorgonia.F32
	partial   []float64 // per-chunk sums, reused
}

func (op *bceOp) Arity() int { return 2 }
func (op *bceOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.dims, Of: a}
	return hm.NewFnType(t, t, a)
}
func (op *bceOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *bceOp) ReturnsPtr() bool      { return false }
func (op *bceOp) CallsExtern() bool     { return false }
func (op *bceOp) OverwritesInput() int  { return -1 }
func (op *bceOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *bceOp) Hashcode() uint32      { return hashOf(op) }
func (op *bceOp) String() string        { return fmt.Sprintf("BCELoss{%dd,/%d}", op.dims, op.div) }

func (op *bceOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	p, t, err := lossInputs("bce loss", in, 2)
	if err != nil {
		return nil, err
	}
	// Chunks of a fixed size, summed in order: the same total whatever the
	// number of cores, so runs stay reproducible across machines.
	chunks := (len(p) + bceChunk - 1) / bceChunk
	if cap(op.partial) < chunks {
		op.partial = make([]float64, chunks)
	}
	part := op.partial[:chunks]
	kernels.ParallelFor(chunks, len(p), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			a, b := c*bceChunk, min((c+1)*bceChunk, len(p))
			part[c] = kernels.BCESum(p[a:b], t[a:b], BCEEps)
		}
	})
	var s float64
	for _, v := range part {
		s += v
	}
	op.out = gorgonia.F32(-s / float64(op.div))
	return &op.out, nil
}

// bceChunk is the number of elements one partial sum covers.
const bceChunk = 4096

func (op *bceOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *bceOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity("bce loss gradient", 2, len(inputs)); err != nil {
		return nil, err
	}
	d, err := gorgonia.ApplyOp(&bceGradOp{dims: op.dims, div: op.div}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("bce loss gradient: %w", err)
	}
	return gorgonia.Nodes{d, nil}, nil
}

// bceGradOp: dpred = −(g/D)·(t/(p+ε) − (1−t)/(1−p+ε)).
type bceGradOp struct {
	dims, div int
	out       *tensor.Dense
}

func (op *bceGradOp) Arity() int { return 3 }
func (op *bceGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.dims, Of: a}
	return hm.NewFnType(t, t, a, t)
}
func (op *bceGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("bce loss gradient: want a shape, got %v", in[0])
	}
	return s.Clone(), nil
}
func (op *bceGradOp) ReturnsPtr() bool      { return false }
func (op *bceGradOp) CallsExtern() bool     { return false }
func (op *bceGradOp) OverwritesInput() int  { return -1 }
func (op *bceGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *bceGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *bceGradOp) String() string        { return fmt.Sprintf("BCELossGrad{%dd,/%d}", op.dims, op.div) }

func (op *bceGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	p, t, err := lossInputs("bce loss gradient", in, 3)
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(in[2])
	if err != nil {
		return nil, fmt.Errorf("bce loss gradient: %w", err)
	}
	out := ownBuf(&op.out, in[0].Shape()...)
	d := out.Float32s()[:len(p)]
	s := -g / float32(op.div)
	kernels.ParallelFor(len(p), len(p), func(lo, hi int) {
		kernels.BCEGrad(p[lo:hi], t[lo:hi], d[lo:hi], s, BCEEps)
	})
	return out, nil
}
