package models

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// Model is an autoencoder. It owns its parameters and builds graphs over
// them; the training loop and the inference helpers use only this interface,
// so no kind is special-cased outside its own file.
type Model interface {
	Spec() Spec
	Params() *graph.Params
	// Encode builds the deterministic code of x (batch×C·H·W); variational
	// kinds return the posterior mean.
	Encode(x *G.Node) (*G.Node, error)
	// Decode builds the reconstruction (batch×C·H·W) of codes z.
	Decode(z *G.Node) (*G.Node, error)
	// Objective builds the training loss for a batch: the graph's inputs, the
	// scalar loss and its named parts.
	Objective(g *G.ExprGraph, batch int) (*Objective, error)
}

// Objective is a model's loss over one batch, as a graph.
type Objective struct {
	Graph *G.ExprGraph
	Batch int
	Loss  *G.Node
	// Parts are further scalars reported beside the loss (for example the
	// KL term of a VAE), in a stable order.
	Parts []Part
	// Feed writes one batch of clean samples (Batch×InputDim) into the
	// graph's inputs, drawing any noise the objective needs (corruption, the
	// VAE's ε) from rng. A nil rng draws no noise: no corruption, ε = 0.
	Feed func(clean []float32, rng *rand.Rand)
	// Input is the graph's buffer Feed copies the clean batch into. A caller
	// may write a batch straight into Input and pass Input to Feed, which
	// then skips that copy (a training loop saves a pass over every batch).
	// Like the graph, it must not be used by two goroutines at once.
	Input []float32
}

// feedCopy copies a clean batch into a graph's input buffer unless the
// caller already wrote it there (see Objective.Input).
func feedCopy(dst, src []float32) {
	if len(dst) > 0 && len(src) > 0 && &dst[0] == &src[0] {
		return
	}
	kernels.Copy(dst, src)
}

// Part is a named scalar node of an objective.
type Part struct {
	Name string
	Node *G.Node
}

// Figurer is a model that reports figures of its own on a data set beyond
// its loss: a denoising model's PSNR of noisy and denoised images, a sparse
// model's mean code activation. x holds n samples; noise the figures need
// is drawn from seed, so they are reproducible.
type Figurer interface {
	Figures(x []float32, n int, seed uint64) (map[string]float64, error)
}

// MeanInitializer is a model whose output layer can start from the
// training data: InitFromMean sets the output bias so that the untrained
// decoder outputs about mean (the mean training sample, InputDim values)
// instead of a uniform grey, and the first epochs learn the images'
// structure rather than their average. Call it on a freshly built model,
// never on a trained one (train.Config.InitFromData does so at the start of
// a new run).
type MeanInitializer interface {
	InitFromMean(mean []float32) error
}

// Generator is a model with a prior over its codes (the variational kinds).
type Generator interface {
	// Sample decodes n codes drawn from the prior N(0, I): n×C·H·W values.
	Sample(n int, rng *rand.Rand) ([]float32, error)
	// Interpolate decodes steps codes evenly spaced from a's posterior mean
	// to b's (both ends included): steps×C·H·W values.
	Interpolate(a, b []float32, steps int) ([]float32, error)
}

// Variational is a model whose encoder outputs a Gaussian posterior.
type Variational interface {
	// EncodeDist builds the posterior mean and log-variance (batch×latent
	// each) of x.
	EncodeDist(x *G.Node) (mu, logvar *G.Node, err error)
	// NegELBO builds each sample's negative ELBO (a batch-length vector)
	// in nats, decoding the posterior mean (ε = 0) so that a score does not
	// change from one call to the next.
	NegELBO(x *G.Node) (*G.Node, error)
}

// New builds a model from its spec, initialising weights from spec.InitSeed.
func New(spec Spec) (Model, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return kindOf(spec).Build(spec)
}

// Defaults of the kinds' own settings.
const (
	DefaultNoiseStd     = 0.3
	DefaultNoiseFrac    = 0.25
	DefaultSparsityL1   = 1e-4
	DefaultSparsityBeta = 3.0
	DefaultBeta         = 1.0
)

// DefaultSpec is the spec of kind for inputs of shape C,H,W; latent 0 picks
// the kind's default code size.
func DefaultSpec(kind string, inputShape []int, latent int) (Spec, error) {
	k, err := LookupKind(kind)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{Kind: kind, InputShape: append([]int(nil), inputShape...), Activation: "relu", Output: "sigmoid", Loss: "mse"}
	k.Defaults(&s)
	if s.Init == "" {
		s.Init = string(graph.SchemeByActivation)
	}
	if latent > 0 {
		s.Latent = latent
	}
	return s, s.Validate()
}

// input makes a batch×dim float32 input node whose backing slice is returned
// so that Feed can write batches into it without allocating.
func input(g *G.ExprGraph, name string, batch, dim int) (*G.Node, []float32) {
	data := make([]float32, batch*dim)
	t := tensorOf(data, batch, dim)
	return G.NewMatrix(g, G.Float32, G.WithShape(batch, dim), G.WithName(name), G.WithValue(t)), data
}

// autoencode builds x → z = Encode(x) → x̂ = Decode(z) for a batch and the
// reconstruction loss of x̂ against x; kinds that add terms start from it.
func autoencode(m Model, loss graph.Loss, g *G.ExprGraph, batch int) (x *G.Node, xData []float32, z, recon *G.Node, err error) {
	x, xData = input(g, "x", batch, m.Spec().InputDim())
	if z, err = m.Encode(x); err != nil {
		return nil, nil, nil, nil, err
	}
	xHat, err := m.Decode(z)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if recon, err = loss.Build(xHat, x); err != nil {
		return nil, nil, nil, nil, err
	}
	return x, xData, z, recon, nil
}

// reconObjective is a plain autoencoder's objective: the reconstruction loss
// of the clean input.
func reconObjective(m Model, loss graph.Loss, g *G.ExprGraph, batch int) (*Objective, error) {
	_, xData, _, recon, err := autoencode(m, loss, g, batch)
	if err != nil {
		return nil, err
	}
	return &Objective{Graph: g, Batch: batch, Loss: recon, Input: xData,
		Feed: func(clean []float32, _ *rand.Rand) { feedCopy(xData, clean) }}, nil
}
