package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/graph/ops"
)

// Scalar is a constant of like's dtype (float32 or float64), so losses can
// be built in float64 for gradient checks and float32 for training.
func Scalar(like *G.Node, v float64) *G.Node {
	if like.Dtype() == tensor.Float64 {
		return G.NewConstant(v)
	}
	return G.NewConstant(float32(v))
}

// MSE is the mean over all elements of (pred - target)².
func MSE(pred, target *G.Node) (*G.Node, error) {
	d, err := G.Sub(pred, target)
	if err != nil {
		return nil, fmt.Errorf("mse: %w", err)
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, fmt.Errorf("mse: %w", err)
	}
	return G.Mean(sq)
}

// BCEElems is the element-wise binary cross-entropy
// -(t·log(p+ε) + (1-t)·log(1-p+ε)) for predictions p in (0,1).
func BCEElems(pred, target *G.Node) (*G.Node, error) {
	eps, one := Scalar(pred, ops.BCEEps), Scalar(pred, 1)
	pe, err := G.Add(pred, eps)
	if err != nil {
		return nil, fmt.Errorf("bce: %w", err)
	}
	logP, err := G.Log(pe)
	if err != nil {
		return nil, err
	}
	q, err := G.Sub(one, pred)
	if err != nil {
		return nil, err
	}
	qe, err := G.Add(q, eps)
	if err != nil {
		return nil, err
	}
	logQ, err := G.Log(qe)
	if err != nil {
		return nil, err
	}
	nt, err := G.Sub(one, target)
	if err != nil {
		return nil, err
	}
	a, err := G.HadamardProd(target, logP)
	if err != nil {
		return nil, err
	}
	b, err := G.HadamardProd(nt, logQ)
	if err != nil {
		return nil, err
	}
	s, err := G.Add(a, b)
	if err != nil {
		return nil, err
	}
	return G.Neg(s)
}

// BCE is the mean element-wise binary cross-entropy.
func BCE(pred, target *G.Node) (*G.Node, error) {
	e, err := BCEElems(pred, target)
	if err != nil {
		return nil, err
	}
	return G.Mean(e)
}

// Loss names a reconstruction loss.
type Loss string

// The reconstruction losses.
const (
	LossMSE Loss = "mse"
	LossBCE Loss = "bce"
)

// ParseLoss checks a loss name.
func ParseLoss(s string) (Loss, error) {
	switch Loss(s) {
	case LossMSE, LossBCE:
		return Loss(s), nil
	}
	return "", fmt.Errorf("unknown loss %q (valid: mse, bce)", s)
}

// Build builds the mean loss of pred against target.
func (l Loss) Build(pred, target *G.Node) (*G.Node, error) {
	switch l {
	case LossMSE, "":
		if fusedLossOK(pred, target) {
			return ops.MSELoss(pred, target)
		}
		return MSE(pred, target)
	case LossBCE:
		if fusedLossOK(pred, target) {
			return ops.BCELoss(pred, target, false)
		}
		return BCE(pred, target)
	}
	return nil, fmt.Errorf("unknown loss %q", l)
}

// fusedLossOK says whether a loss of pred against target can be one fused
// node with its own gradient (ops.MSELoss, ops.BCELoss): float32 on the
// CPU, with a target that is data. CUDA builds and the float64 graphs of
// the gradient checks keep Gorgonia's element-wise ops.
func fusedLossOK(pred, target *G.Node) bool {
	return pred.Dtype() == tensor.Float32 && target.Dtype() == tensor.Float32 && target.Op() == nil && !device.CUDAEnabled()
}
