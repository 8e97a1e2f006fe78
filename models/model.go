package models

import (
	"fmt"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/graph"
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
	// graph's inputs, drawing any noise the objective needs from rng.
	Feed func(clean []float32, rng *rand.Rand)
}

// Part is a named scalar node of an objective.
type Part struct {
	Name string
	Node *G.Node
}

// New builds a model from its spec, initialising weights from spec.InitSeed.
func New(spec Spec) (Model, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case "basic", "deep":
		return newDenseAE(spec)
	}
	return nil, fmt.Errorf("unknown model kind %q (valid: %s)", spec.Kind, strings.Join(Kinds(), ", "))
}

// DefaultSpec is the spec of kind for inputs of shape C,H,W; latent 0 picks
// the kind's default code size.
func DefaultSpec(kind string, inputShape []int, latent int) (Spec, error) {
	s := Spec{Kind: kind, InputShape: append([]int(nil), inputShape...), Activation: "relu", Output: "sigmoid", Loss: "mse"}
	switch kind {
	case "basic":
		s.Latent = 64
	case "deep":
		s.Hidden = []int{128, 64}
		s.Latent = 32
	default:
		return Spec{}, fmt.Errorf("unknown model kind %q (valid: %s)", kind, strings.Join(Kinds(), ", "))
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
