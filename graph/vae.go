package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/graph/ops"
)

// Reparameterize builds z = mu + exp(logvar/2) ⊙ eps, the sample of
// N(mu, exp(logvar)) written so that gradients flow into mu and logvar while
// the randomness stays in the input eps ~ N(0, I).
func Reparameterize(mu, logvar, eps *G.Node) (*G.Node, error) {
	if !mu.Shape().Eq(logvar.Shape()) || !mu.Shape().Eq(eps.Shape()) {
		return nil, fmt.Errorf("reparameterize: mu %v, logvar %v and eps %v must have the same shape", mu.Shape(), logvar.Shape(), eps.Shape())
	}
	if fusedLatentOK(mu, logvar) && mu.Dims() == 2 && eps.Dtype() == tensor.Float32 {
		return ops.Reparameterize(mu, logvar, eps)
	}
	return plainReparameterize(mu, logvar, eps)
}

// plainReparameterize is Reparameterize from Gorgonia's element-wise ops.
func plainReparameterize(mu, logvar, eps *G.Node) (*G.Node, error) {
	half, err := G.HadamardProd(logvar, Scalar(logvar, 0.5))
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	std, err := G.Exp(half)
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	noise, err := G.HadamardProd(std, eps)
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	return G.Add(mu, noise)
}

// fusedLatentOK says whether the latent terms can be one fused CPU op each
// (ops.Reparameterize, ops.GaussianKL): float32 graphs off CUDA. Float64
// graphs (the gradient checks) and CUDA builds keep the element-wise form
// below, which is also what the fused ops are tested against.
func fusedLatentOK(mu, logvar *G.Node) bool {
	return mu.Dtype() == tensor.Float32 && logvar.Dtype() == tensor.Float32 && !device.CUDAEnabled()
}

// GaussianKL builds KL(N(mu, exp(logvar)) ‖ N(0, I)) in nats, summed over
// the latent dimensions and averaged over the batch:
//
//	−½ Σ_j (1 + logvar_j − mu_j² − exp(logvar_j))
func GaussianKL(mu, logvar *G.Node) (*G.Node, error) {
	if mu.Dims() != 2 || !mu.Shape().Eq(logvar.Shape()) {
		return nil, fmt.Errorf("gaussian kl: mu %v and logvar %v must both be batch×latent", mu.Shape(), logvar.Shape())
	}
	if fusedLatentOK(mu, logvar) {
		return ops.GaussianKL(mu, logvar)
	}
	return plainGaussianKL(mu, logvar)
}

// plainGaussianKL is GaussianKL from Gorgonia's element-wise ops.
func plainGaussianKL(mu, logvar *G.Node) (*G.Node, error) {
	mu2, err := G.Square(mu)
	if err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	v, err := G.Exp(logvar)
	if err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	t, err := G.Add(logvar, Scalar(logvar, 1))
	if err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	if t, err = G.Sub(t, mu2); err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	if t, err = G.Sub(t, v); err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	s, err := SumPerSample(t)
	if err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	return G.HadamardProd(s, Scalar(s, -0.5))
}

// SumPerSample builds the sum of a batch×… node over everything but the
// batch axis, averaged over the batch: the per-sample total of a loss.
func SumPerSample(x *G.Node) (*G.Node, error) {
	if x.Dims() < 1 || x.Shape()[0] == 0 {
		return nil, fmt.Errorf("sum per sample: input shape %v has no batch axis", x.Shape())
	}
	s, err := G.Sum(x)
	if err != nil {
		return nil, err
	}
	return G.HadamardDiv(s, Scalar(x, float64(x.Shape()[0])))
}

// BCESum is the binary cross-entropy summed over each sample's elements and
// averaged over the batch: the negative Bernoulli log-likelihood in nats
// per sample.
func BCESum(pred, target *G.Node) (*G.Node, error) {
	if fusedLossOK(pred, target) {
		return ops.BCELoss(pred, target, true)
	}
	e, err := BCEElems(pred, target)
	if err != nil {
		return nil, err
	}
	return SumPerSample(e)
}

// SSESum is the squared error summed over each sample's elements and
// averaged over the batch.
func SSESum(pred, target *G.Node) (*G.Node, error) {
	d, err := G.Sub(pred, target)
	if err != nil {
		return nil, fmt.Errorf("sse: %w", err)
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, fmt.Errorf("sse: %w", err)
	}
	return SumPerSample(sq)
}
