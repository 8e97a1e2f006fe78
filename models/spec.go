package models

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	Loss       string `json:"loss"`
	// Noise is the corruption a denoising model is trained against.
	Noise *NoiseSpec `json:"noise,omitempty"`
	// Sparsity is the code penalty of a sparse model.
	Sparsity *SparsitySpec `json:"sparsity,omitempty"`
	// Beta weighs the KL term of variational kinds.
	Beta float64 `json:"beta,omitempty"`
	// InitSeed seeds the weight initialisation.
	InitSeed uint64 `json:"init_seed"`
}

// NoiseSpec describes a corruption of the input.
type NoiseSpec struct {
	Kind string  `json:"kind"` // gaussian, mask, saltpepper
	Std  float64 `json:"std,omitempty"`
	Frac float64 `json:"frac,omitempty"`
}

// SparsitySpec describes a penalty on the code's activity.
type SparsitySpec struct {
	L1   float64 `json:"l1,omitempty"`   // weight of mean |code|
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
	if !slices.Contains(Kinds(), s.Kind) {
		return fmt.Errorf("unknown model kind %q (valid: %s)", s.Kind, strings.Join(Kinds(), ", "))
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
	return nil
}

// Kinds lists the model kinds, in the order the README presents them.
func Kinds() []string { return []string{"basic", "deep"} }
