package apps

import (
	"fmt"
	"math"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/models"
)

// DefaultIWAESamples is k of the importance-weighted bound the recon task
// reports for variational kinds (Burda et al. report k = 50 and 5000).
const DefaultIWAESamples = 50

// IWAE is the importance-weighted bound of a variational model on a data
// set, per sample.
type IWAE struct {
	K int
	// NegLogLik is −log p̂_k(x) of each sample, in nats: an upper bound of
	// −log p(x) that tightens as k grows.
	NegLogLik []float64
	// NegELBO is −log w of each sample's first draw: a one-draw estimate of
	// the negative ELBO (the same yardstick as the training loss), from the
	// same draws, so NegLogLik ≤ NegELBO on average.
	NegELBO []float64
}

// ImportanceBound computes the IWAE bound of m on d with k posterior draws
// per sample, seeded: log p̂_k(x) = log (1/k) Σ_i p(x|z_i)·p(z_i)/q(z_i|x),
// z_i ~ q(z|x), using the model's encoder (models.Posterior) and decoder
// (models.Decode). p(x|z) is the likelihood the model was trained on:
// Bernoulli (bce) or exp(−SSE) (mse).
func ImportanceBound(m models.Model, d *dataset.Dataset, k int, seed uint64) (*IWAE, error) {
	if !IsVariational(m) {
		return nil, fmt.Errorf("the importance-weighted bound needs a variational model (vae, convvae); this one is %s", m.Spec().Kind)
	}
	if k < 1 {
		return nil, fmt.Errorf("importance-weighted bound: k=%d draws, want at least 1", k)
	}
	if err := CheckShape(m, d); err != nil {
		return nil, err
	}
	spec := m.Spec()
	lik := eval.NegSSE
	if spec.Loss == string(graph.LossBCE) {
		lik = eval.BernoulliLogLik
	}
	mu, logvar, err := models.Posterior(m, d.X, d.N)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", d.Name, err)
	}
	n, l, dim := d.N, spec.Latent, d.Dim()
	logw := make([]float64, n*k) // sample-major: sample i's draws are logw[i*k:(i+1)*k]
	rng := rngFor(seed, 0x1a3e)
	eps := make([]float32, n*l)
	z := make([]float32, n*l)
	for s := range k {
		for i := range eps {
			eps[i] = float32(rng.NormFloat64())
			z[i] = mu[i] + float32(math.Exp(float64(logvar[i])/2))*eps[i]
		}
		xHat, err := models.Decode(m, z, n)
		if err != nil {
			return nil, fmt.Errorf("decoding draw %d: %w", s+1, err)
		}
		for i := range n {
			r := i * l
			logw[i*k+s] = lik(d.X[i*dim:(i+1)*dim], xHat[i*dim:(i+1)*dim]) +
				eval.LogImportanceWeight(z[r:r+l], eps[r:r+l], logvar[r:r+l])
		}
	}
	res := &IWAE{K: k, NegLogLik: make([]float64, n), NegELBO: make([]float64, n)}
	for i := range n {
		res.NegLogLik[i] = -eval.LogMeanExp(logw[i*k : (i+1)*k])
		res.NegELBO[i] = -logw[i*k]
	}
	return res, nil
}
