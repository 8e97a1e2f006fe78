package models

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/graph"
)

func init() {
	register(Kind{Name: "sparse", Order: 40, Summary: "deep net with an L1 or KL sparsity penalty on the code",
		Defaults: func(s *Spec) {
			s.Hidden, s.Latent = []int{128, 64}, 32
			s.Sparsity = &SparsitySpec{L1: DefaultSparsityL1}
		},
		Build:    func(s Spec) (Model, error) { return newSparseAE(s) },
		Flags:    []string{"sparsity-l1", "sparsity-rho", "sparsity-beta"},
		Validate: Spec.validateSparsity,
		FromFlags: func(f *SpecFlags, s *Spec) {
			s.Sparsity = &SparsitySpec{L1: f.SparsityL1, Rho: f.SparsityRho}
			if f.SparsityRho > 0 {
				s.Sparsity.Beta = f.SparsityBeta
				if !f.set("sparsity-l1") {
					s.Sparsity.L1 = 0
				}
			}
		},
		CheckFlags: func(f *SpecFlags) error {
			if !(f.SparsityRho >= 0 && f.SparsityRho < 1) {
				return fmt.Errorf("-sparsity-rho %g: must be in [0, 1) (0: no KL penalty)", f.SparsityRho)
			}
			if f.SparsityL1 < 0 || f.SparsityBeta < 0 {
				return fmt.Errorf("-sparsity-l1 %g, -sparsity-beta %g: must be zero or more", f.SparsityL1, f.SparsityBeta)
			}
			return nil
		},
	})
}

// sparseAE is the deep autoencoder with a penalty on its code's activity:
//
//	z = encoder(x)       ReLU code, or sigmoid code when ρ > 0
//	x̂ = decoder(z)
//	loss = recon(x̂, x) + λ₁·Σ_j |z_j| + β·Σ_j KL(ρ ‖ ρ̂_j)
//
// where ρ̂_j is unit j's mean activation over the batch.
type sparseAE struct {
	*denseAE
	sparsity SparsitySpec
}

func newSparseAE(spec Spec) (*sparseAE, error) {
	code := graph.ReLU
	if spec.Sparsity.Rho > 0 {
		code = graph.Sigmoid
	}
	net, err := newDenseNet(spec, code)
	if err != nil {
		return nil, err
	}
	return &sparseAE{denseAE: net, sparsity: *spec.Sparsity}, nil
}

func (m *sparseAE) Objective(g *G.ExprGraph, batch int) (*Objective, error) {
	_, xData, z, recon, err := autoencode(m, m.loss, g, batch)
	if err != nil {
		return nil, err
	}
	// The penalty is built only from the terms with a weight, so that the
	// unpenalised net (the baseline a sparse run is compared with) has no
	// constant nodes in its graph.
	loss, parts := recon, []Part(nil)
	var penalty *G.Node
	add := func(term *G.Node, w float64) error {
		t, err := G.HadamardProd(term, graph.Scalar(term, w))
		if err != nil {
			return err
		}
		if penalty == nil {
			penalty = t
			return nil
		}
		penalty, err = G.Add(penalty, t)
		return err
	}
	if sp := m.sparsity; sp.L1 > 0 {
		l1, err := graph.L1Activity(z)
		if err != nil {
			return nil, err
		}
		if err := add(l1, sp.L1); err != nil {
			return nil, err
		}
	}
	if sp := m.sparsity; sp.Rho > 0 && sp.Beta > 0 {
		kl, err := graph.KLSparsity(z, sp.Rho)
		if err != nil {
			return nil, err
		}
		if err := add(kl, sp.Beta); err != nil {
			return nil, err
		}
	}
	if penalty != nil {
		if loss, err = G.Add(recon, penalty); err != nil {
			return nil, err
		}
		parts = []Part{{"recon", recon}, {"penalty", penalty}}
	}
	codeMean, err := G.Mean(z)
	if err != nil {
		return nil, err
	}
	return &Objective{Graph: g, Batch: batch, Loss: loss,
		Parts: append(parts, Part{"code_mean", codeMean}), Input: xData,
		Feed: func(clean []float32, _ *rand.Rand) { feedCopy(xData, clean) }}, nil
}

// Figures reports the mean activation of the code over x, the figure the
// penalty is meant to lower.
func (m *sparseAE) Figures(x []float32, n int, _ uint64) (map[string]float64, error) {
	z, err := Encode(m, x, n)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"code_mean_activation": meanOf(z)}, nil
}

// weighted builds acc + w·term.
func weighted(acc, term *G.Node, w float64) (*G.Node, error) {
	t, err := G.HadamardProd(term, graph.Scalar(term, w))
	if err != nil {
		return nil, err
	}
	return G.Add(acc, t)
}
