package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/graph/ops"
)

// L1Activity builds the L1 activity penalty of a batch×k code: Σ_j |z_j|
// per sample, averaged over the batch.
func L1Activity(z *G.Node) (*G.Node, error) {
	a, err := G.Abs(z)
	if err != nil {
		return nil, fmt.Errorf("l1 activity: %w", err)
	}
	return SumPerSample(a)
}

// KLSparsity builds the sparsity penalty of a batch×k code with activations
// in (0, 1) towards a target mean activation rho:
//
//	ρ̂_j = mean over the batch of z_j
//	Σ_j ρ log(ρ/ρ̂_j) + (1−ρ) log((1−ρ)/(1−ρ̂_j))
func KLSparsity(z *G.Node, rho float64) (*G.Node, error) {
	if z.Dims() != 2 {
		return nil, fmt.Errorf("kl sparsity: code shape %v, want batch×units", z.Shape())
	}
	if !(rho > 0 && rho < 1) {
		return nil, fmt.Errorf("kl sparsity: target activation %g must be in (0, 1)", rho)
	}
	rhoHat, err := G.Mean(z, 0)
	if err != nil {
		return nil, fmt.Errorf("kl sparsity: %w", err)
	}
	eps, one := Scalar(z, ops.BCEEps), Scalar(z, 1)
	// ρ log ρ + (1−ρ) log(1−ρ) is a constant; the rest is
	// −ρ log ρ̂ − (1−ρ) log(1−ρ̂).
	pe, err := G.Add(rhoHat, eps)
	if err != nil {
		return nil, err
	}
	logP, err := G.Log(pe)
	if err != nil {
		return nil, err
	}
	q, err := G.Sub(one, rhoHat)
	if err != nil {
		return nil, err
	}
	if q, err = G.Add(q, eps); err != nil {
		return nil, err
	}
	logQ, err := G.Log(q)
	if err != nil {
		return nil, err
	}
	a, err := G.HadamardProd(logP, Scalar(z, -rho))
	if err != nil {
		return nil, err
	}
	b, err := G.HadamardProd(logQ, Scalar(z, -(1-rho)))
	if err != nil {
		return nil, err
	}
	s, err := G.Add(a, b)
	if err != nil {
		return nil, err
	}
	total, err := G.Sum(s)
	if err != nil {
		return nil, err
	}
	k := float64(z.Shape()[1])
	c := k * (rho*math.Log(rho) + (1-rho)*math.Log(1-rho))
	return G.Add(total, Scalar(z, c))
}
