package models

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hourglass-ml/hourglass/graph"
)

// Spec is everything needed to rebuild a model: it is stored in every
// checkpoint as JSON.
type Spec struct {
	Kind       string `json:"kind"`
	InputShape []int  `json:"input_shape"` // C, H, W
	// Hidden are the encoder's hidden layer widths for dense kinds; the
	// decoder mirrors them.
	Hidden []int `json:"hidden,omitempty"`
	// Channels are the encoder's convolution channels for conv kinds.
	Channels   []int  `json:"channels,omitempty"`
	Latent     int    `json:"latent"`
	Activation string `json:"activation"`
	Output     string `json:"output"`
	// Loss is the reconstruction loss, mse or bce: the mean over pixels for
	// the plain kinds, the sum over pixels per image for the variational
	// kinds (where it is the negative log-likelihood term of the ELBO).
	Loss string `json:"loss"`
	// Noise is the corruption a denoising model is trained against.
	Noise *NoiseSpec `json:"noise,omitempty"`
	// Sparsity is the code penalty of a sparse model.
	Sparsity *SparsitySpec `json:"sparsity,omitempty"`
	// Beta weighs the KL term of variational kinds.
	Beta float64 `json:"beta,omitempty"`
	// Init is the initialisation scheme (graph.Scheme): he-glorot, or torch
	// for PyTorch's defaults; empty in older checkpoints means he-glorot.
	Init string `json:"init,omitempty"`
	// InitSeed seeds the weight initialisation.
	InitSeed uint64 `json:"init_seed"`
}

// NoiseSpec describes a corruption of the input.
type NoiseSpec struct {
	Kind string  `json:"kind"` // gaussian, mask, saltpepper
	Std  float64 `json:"std,omitempty"`
	Frac float64 `json:"frac,omitempty"`
}

// SparsitySpec describes a penalty on the code's activity. With Rho = 0 the
// code is ReLU and penalised by L1·Σ|z|; with Rho in (0, 1) the code is a
// sigmoid and penalised by Beta·KL(ρ ‖ ρ̂) (plus L1·Σ|z| if L1 > 0).
type SparsitySpec struct {
	L1   float64 `json:"l1,omitempty"`   // weight of Σ_j |z_j| per sample
	Rho  float64 `json:"rho,omitempty"`  // target mean activation for the KL penalty
	Beta float64 `json:"beta,omitempty"` // weight of the KL penalty
}

// InputDim is C·H·W.
func (s Spec) InputDim() int {
	n := 1
	for _, d := range s.InputShape {
		n *= d
	}
	return n
}

// JSON encodes the spec.
func (s Spec) JSON() string {
	b, _ := json.Marshal(s) // a Spec has only plain fields; Marshal cannot fail
	return string(b)
}

// ParseSpec decodes and validates a spec.
func ParseSpec(data string) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("model spec: %w", err)
	}
	return s, s.Validate()
}

// Validate checks the spec's fields for the kind.
func (s Spec) Validate() error {
	k, err := LookupKind(s.Kind)
	if err != nil {
		return err
	}
	if len(s.InputShape) != 3 || s.InputShape[0] <= 0 || s.InputShape[1] <= 0 || s.InputShape[2] <= 0 {
		return fmt.Errorf("model %s: input shape %v must be C,H,W with positive sizes", s.Kind, s.InputShape)
	}
	if s.Latent <= 0 {
		return fmt.Errorf("model %s: latent size %d must be positive", s.Kind, s.Latent)
	}
	for _, h := range s.Hidden {
		if h <= 0 {
			return fmt.Errorf("model %s: hidden sizes %v must be positive", s.Kind, s.Hidden)
		}
	}
	conv := k.Conv
	switch {
	case conv && len(s.Channels) == 0:
		return fmt.Errorf("model %s: needs at least one convolution channel count (channels)", s.Kind)
	case !conv && len(s.Channels) > 0:
		return fmt.Errorf("model %s: channels %v apply only to conv and convvae", s.Kind, s.Channels)
	}
	for _, c := range s.Channels {
		if c <= 0 {
			return fmt.Errorf("model %s: channels %v must be positive", s.Kind, s.Channels)
		}
	}
	if err := s.checkSizes(); err != nil {
		return err
	}
	if _, err := graph.ParseScheme(s.Init); err != nil {
		return fmt.Errorf("model %s: %w", s.Kind, err)
	}
	// Settings of one kind given to another are an error, not ignored.
	if s.Noise != nil && !slices.Contains(k.Flags, "noise") {
		return fmt.Errorf("model %s: noise settings apply only to %s", s.Kind, strings.Join(kindsWithFlag("noise"), ", "))
	}
	if s.Sparsity != nil && !slices.Contains(k.Flags, "sparsity-l1") {
		return fmt.Errorf("model %s: sparsity settings apply only to %s", s.Kind, strings.Join(kindsWithFlag("sparsity-l1"), ", "))
	}
	if k.Validate != nil {
		if err := k.Validate(s); err != nil {
			return err
		}
	}
	variational := k.Variational
	switch {
	case variational && (s.Beta < 0 || math.IsNaN(s.Beta) || math.IsInf(s.Beta, 0)):
		return fmt.Errorf("model %s: beta %g must be zero or more", s.Kind, s.Beta)
	case !variational && s.Beta != 0:
		return fmt.Errorf("model %s: beta %g applies only to vae and convvae", s.Kind, s.Beta)
	}
	if _, err := graph.ParseActivation(s.Output); err != nil {
		return fmt.Errorf("model %s output: %w", s.Kind, err)
	}
	if s.Loss == "bce" && s.Output != "sigmoid" {
		// Cross-entropy takes the log of outputs that must lie in (0,1).
		return fmt.Errorf("model %s: loss bce needs a sigmoid output, not %q; use loss mse", s.Kind, s.Output)
	}
	return nil
}

func (s Spec) validateNoise() error {
	if s.Noise == nil {
		return fmt.Errorf("model denoising: needs noise settings (kind: gaussian, mask or saltpepper)")
	}
	return s.Noise.Validate()
}

func (s Spec) validateSparsity() error {
	sp := s.Sparsity
	switch {
	case sp == nil:
		return fmt.Errorf("model sparse: needs sparsity settings (l1, or rho and beta)")
	case !(sp.L1 >= 0) || math.IsInf(sp.L1, 0):
		return fmt.Errorf("model sparse: sparsity l1 weight %g must be zero or more", sp.L1)
	case !(sp.Beta >= 0) || math.IsInf(sp.Beta, 0):
		return fmt.Errorf("model sparse: sparsity beta %g must be zero or more", sp.Beta)
	case !(sp.Rho >= 0 && sp.Rho < 1):
		return fmt.Errorf("model sparse: target activation rho %g must be in [0, 1) (0: no KL penalty, ReLU code)", sp.Rho)
	case sp.Rho == 0 && sp.Beta != 0:
		return fmt.Errorf("model sparse: sparsity beta %g needs a target activation rho in (0, 1)", sp.Beta)
	}
	return nil
}

// parts parses the spec's hidden and output activations and its
// reconstruction loss, naming the model in any error.
// newParams is an empty parameter set that initialises layers the way the
// spec says.
func (s Spec) newParams() (*graph.Params, error) {
	scheme, err := graph.ParseScheme(s.Init)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", s.Kind, err)
	}
	ps := graph.NewParams()
	ps.Scheme = scheme
	return ps, nil
}

func (s Spec) parts() (act, out graph.Activation, loss graph.Loss, err error) {
	if act, err = graph.ParseActivation(s.Activation); err != nil {
		return "", "", "", fmt.Errorf("model %s: %w", s.Kind, err)
	}
	if out, err = graph.ParseActivation(s.Output); err != nil {
		return "", "", "", fmt.Errorf("model %s output: %w", s.Kind, err)
	}
	if loss, err = graph.ParseLoss(s.Loss); err != nil {
		return "", "", "", fmt.Errorf("model %s: %w", s.Kind, err)
	}
	return act, out, loss, nil
}
