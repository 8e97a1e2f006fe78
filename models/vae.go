package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/graph"
)

func init() {
	variational := func(name string, order int, summary string, defaults func(s *Spec), conv bool) Kind {
		return Kind{Name: name, Order: order, Summary: summary, Conv: conv, Variational: true,
			Defaults: func(s *Spec) {
				defaults(s)
				s.Loss, s.Beta = "bce", DefaultBeta
			},
			Build:     func(s Spec) (Model, error) { return newVAE(s) },
			Flags:     []string{"beta"},
			FromFlags: func(f *SpecFlags, s *Spec) { s.Beta = f.Beta },
			CheckFlags: func(f *SpecFlags) error {
				if !(f.Beta >= 0) {
					return fmt.Errorf("-beta %g: must be zero or more", f.Beta)
				}
				return nil
			},
		}
	}
	// The architecture of pytorch/examples' VAE: 784-400-(20, 20), 20-400-784,
	// initialised as PyTorch does: it reaches a lower ELBO from there.
	register(variational("vae", 60, "784-400-(μ 20, log σ² 20), 20-400-784; loss = negative ELBO", func(s *Spec) {
		s.Hidden, s.Latent, s.Init = []int{400}, 20, string(graph.SchemeTorch)
	}, false))
	register(variational("convvae", 70, "the conv encoder and decoder around the VAE latent", func(s *Spec) {
		s.Channels, s.Latent = []int{32, 64}, 20
	}, true))
}

// vae is the variational autoencoder, with a dense body (vae: the
// pytorch/examples 784-400-(20, 20) / 20-400-784 net) or the conv
// encoder and decoder (convvae):
//
//	encoder          h = body(x);  μ = h·W_μ + b_μ;  log σ² = h·W_σ + b_σ
//	reparameterize   z = μ + exp(log σ²/2) ⊙ ε,   ε ~ N(0, I) drawn every step
//	decoder          x̂ = decoder(z)
//	loss = −ELBO     Σ_pixels BCE(x̂, x)  +  β · KL(N(μ, σ²) ‖ N(0, I)),  per image
type vae struct {
	spec       Spec
	params     *graph.Params
	body       block
	mu, logvar *graph.Dense
	decoder    block
	recon      graph.Loss
}

// block is a sub-network: graph.MLP, convEncoder, convDecoder.
type block interface {
	Forward(ps *graph.Params, x *G.Node) (*G.Node, error)
}

func newVAE(spec Spec) (*vae, error) {
	act, out, recon, err := spec.parts()
	if err != nil {
		return nil, err
	}
	params, err := spec.newParams()
	if err != nil {
		return nil, err
	}
	m := &vae{spec: spec, params: params, recon: recon}
	rng := initRNG(spec)
	var features int
	if kindOf(spec).Conv {
		enc, err := newConvEncoder(m.params, spec, rng)
		if err != nil {
			return nil, err
		}
		m.body, features = enc, enc.Features()
		if m.decoder, err = newConvDecoder(m.params, spec, enc, rng); err != nil {
			return nil, err
		}
	} else {
		if len(spec.Hidden) == 0 {
			return nil, fmt.Errorf("model %s: needs at least one hidden layer (hidden)", spec.Kind)
		}
		sizes := append([]int{spec.InputDim()}, spec.Hidden...)
		if m.body, err = graph.NewMLP(m.params, "encoder", sizes, act, act, rng); err != nil {
			return nil, err
		}
		features = sizes[len(sizes)-1]
		if m.decoder, err = graph.NewMLP(m.params, "decoder", reversed(append(sizes, spec.Latent)), act, out, rng); err != nil {
			return nil, err
		}
	}
	if m.mu, err = graph.NewDense(m.params, "encoder.mu", features, spec.Latent, graph.Identity, rng); err != nil {
		return nil, err
	}
	if m.logvar, err = graph.NewDense(m.params, "encoder.logvar", features, spec.Latent, graph.Identity, rng); err != nil {
		return nil, err
	}
	return m, nil
}

// InitFromMean starts the dense decoder's output bias at the training
// mean: its logit under a sigmoid output, the mean itself under an identity
// one. On Fashion-MNIST it lowers the test negative ELBO after 10 epochs by
// about 0.4 nats (docs/results.md). The convvae's decoder ends in a
// convolution with one bias per channel; it keeps its initialisation.
func (m *vae) InitFromMean(mean []float32) error {
	mlp, ok := m.decoder.(graph.MLP)
	if !ok {
		return nil
	}
	out := mlp[len(mlp)-1]
	if len(mean) != out.Out {
		return fmt.Errorf("model %s: initial output from a mean of %d values, want %d", m.spec.Kind, len(mean), out.Out)
	}
	if out.Act != graph.Sigmoid && out.Act != graph.Identity {
		return nil
	}
	b := make([]float32, len(mean))
	for j, v := range mean {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("model %s: initial output from a mean with %g at value %d: the training data holds NaN or infinite values", m.spec.Kind, v, j)
		}
		b[j] = v
		if out.Act == graph.Sigmoid {
			// Clamped: an always-black pixel would otherwise get −∞.
			p := min(max(float64(v), 1e-3), 1-1e-3)
			b[j] = float32(math.Log(p / (1 - p)))
		}
	}
	copy(out.B.Data(), b)
	return nil
}

func (m *vae) Spec() Spec            { return m.spec }
func (m *vae) Params() *graph.Params { return m.params }

// EncodeDist builds the posterior N(μ, exp(log σ²)) of x.
func (m *vae) EncodeDist(x *G.Node) (mu, logvar *G.Node, err error) {
	if err := checkInput(m.spec, x); err != nil {
		return nil, nil, err
	}
	h, err := m.body.Forward(m.params, x)
	if err != nil {
		return nil, nil, err
	}
	if mu, err = m.mu.Forward(m.params, h); err != nil {
		return nil, nil, err
	}
	if logvar, err = m.logvar.Forward(m.params, h); err != nil {
		return nil, nil, err
	}
	return mu, logvar, nil
}

// Encode is the posterior mean, the deterministic code.
func (m *vae) Encode(x *G.Node) (*G.Node, error) {
	mu, _, err := m.EncodeDist(x)
	return mu, err
}

func (m *vae) Decode(z *G.Node) (*G.Node, error) {
	if err := checkCode(m.spec, z); err != nil {
		return nil, err
	}
	return m.decoder.Forward(m.params, z)
}

func (m *vae) Objective(g *G.ExprGraph, batch int) (*Objective, error) {
	x, xData := input(g, "x", batch, m.spec.InputDim())
	eps, epsData := input(g, "eps", batch, m.spec.Latent)
	// encoder
	mu, logvar, err := m.EncodeDist(x)
	if err != nil {
		return nil, err
	}
	// reparameterization
	z, err := graph.Reparameterize(mu, logvar, eps)
	if err != nil {
		return nil, err
	}
	// decoder
	xHat, err := m.Decode(z)
	if err != nil {
		return nil, err
	}
	// negative ELBO, in nats per image
	var recon *G.Node
	if m.recon == graph.LossBCE {
		recon, err = graph.BCESum(xHat, x)
	} else {
		recon, err = graph.SSESum(xHat, x)
	}
	if err != nil {
		return nil, err
	}
	kl, err := graph.GaussianKL(mu, logvar)
	if err != nil {
		return nil, err
	}
	loss, err := weighted(recon, kl, m.spec.Beta)
	if err != nil {
		return nil, err
	}
	feed := func(clean []float32, rng *rand.Rand) {
		feedCopy(xData, clean)
		if rng == nil {
			clear(epsData)
			return
		}
		for i := range epsData {
			epsData[i] = float32(rng.NormFloat64())
		}
	}
	return &Objective{Graph: g, Batch: batch, Loss: loss,
		Parts: []Part{{"recon", recon}, {"kl", kl}}, Feed: feed, Input: xData}, nil
}

// NegELBO is the objective's negative ELBO per sample, with ε = 0:
//
//	Σ_pixels recon(Decode(μ), x)  +  β · (−½ Σ_j (1 + log σ²_j − μ_j² − σ²_j))
func (m *vae) NegELBO(x *G.Node) (*G.Node, error) {
	// encoder
	mu, logvar, err := m.EncodeDist(x)
	if err != nil {
		return nil, err
	}
	// decoder, at the posterior mean
	xHat, err := m.Decode(mu)
	if err != nil {
		return nil, err
	}
	// reconstruction term per sample
	var elems *G.Node
	if m.recon == graph.LossBCE {
		elems, err = graph.BCEElems(xHat, x)
	} else {
		var d *G.Node
		if d, err = G.Sub(xHat, x); err == nil {
			elems, err = G.Square(d)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("negative elbo: %w", err)
	}
	recon, err := G.Sum(elems, 1)
	if err != nil {
		return nil, fmt.Errorf("negative elbo: %w", err)
	}
	// KL per sample
	kl, err := gaussianKLPerSample(mu, logvar)
	if err != nil {
		return nil, fmt.Errorf("negative elbo: %w", err)
	}
	return weighted(recon, kl, m.spec.Beta)
}

// gaussianKLPerSample is KL(N(μ, σ²) ‖ N(0, I)) of each row, in nats.
func gaussianKLPerSample(mu, logvar *G.Node) (*G.Node, error) {
	mu2, err := G.Square(mu)
	if err != nil {
		return nil, err
	}
	v, err := G.Exp(logvar)
	if err != nil {
		return nil, err
	}
	t, err := G.Add(logvar, graph.Scalar(logvar, 1))
	if err != nil {
		return nil, err
	}
	if t, err = G.Sub(t, mu2); err != nil {
		return nil, err
	}
	if t, err = G.Sub(t, v); err != nil {
		return nil, err
	}
	s, err := G.Sum(t, 1)
	if err != nil {
		return nil, err
	}
	return G.HadamardProd(s, graph.Scalar(s, -0.5))
}

// Sample decodes n draws from the prior N(0, I).
func (m *vae) Sample(n int, rng *rand.Rand) ([]float32, error) {
	if n <= 0 {
		return nil, fmt.Errorf("sample: asked for %d images, want at least 1", n)
	}
	if rng == nil {
		return nil, fmt.Errorf("sample: a random source is needed")
	}
	z := make([]float32, n*m.spec.Latent)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	return Decode(m, z, n)
}

// Interpolate decodes steps codes on the line from a's posterior mean to
// b's.
func (m *vae) Interpolate(a, b []float32, steps int) ([]float32, error) {
	dim := m.spec.InputDim()
	if len(a) != dim || len(b) != dim {
		return nil, fmt.Errorf("interpolate: inputs have %d and %d values, want one %v image (%d values) each", len(a), len(b), m.spec.InputShape, dim)
	}
	if steps < 2 {
		return nil, fmt.Errorf("interpolate: %d steps, want at least 2 (both ends)", steps)
	}
	mu, err := Encode(m, append(append([]float32(nil), a...), b...), 2)
	if err != nil {
		return nil, err
	}
	k := m.spec.Latent
	z := make([]float32, steps*k)
	for s := range steps {
		t := float32(s) / float32(steps-1)
		for j := range k {
			z[s*k+j] = (1-t)*mu[j] + t*mu[k+j]
		}
	}
	return Decode(m, z, steps)
}
