package models

import (
	"fmt"
	"os"
	"strconv"
)

// ParamShape is the name and shape of one parameter a spec implies.
type ParamShape struct {
	Name  string
	Shape []int
}

// Size is the number of values of the parameter.
func (p ParamShape) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// ParamShapes lists the parameters New(spec) creates, in creation order,
// without allocating them: a checkpoint's tensors are checked against it
// before any model is built, and Validate bounds the parameter count with
// it. The spec's sizes must already be within the per-size limits
// (Validate checks them first), so no product here can overflow.
func ParamShapes(spec Spec) ([]ParamShape, error) {
	if len(spec.InputShape) != 3 {
		return nil, fmt.Errorf("model %s: input shape %v must be C,H,W", spec.Kind, spec.InputShape)
	}
	var out []ParamShape
	dense := func(name string, in, outW int) {
		out = append(out, ParamShape{name + ".w", []int{in, outW}}, ParamShape{name + ".b", []int{outW}})
	}
	mlp := func(name string, sizes []int) {
		for i := 0; i+1 < len(sizes); i++ {
			dense(fmt.Sprintf("%s.%d", name, i), sizes[i], sizes[i+1])
		}
	}
	// convs adds the conv encoder and decoder.dense and decoder convs of a
	// conv kind; code is called between them (conv's encoder.code) and it
	// returns the flattened feature width.
	convs := func(code func(features int)) int {
		h, w := spec.InputShape[1], spec.InputShape[2]
		in := spec.InputShape[0]
		for i, c := range spec.Channels {
			out = append(out, ParamShape{fmt.Sprintf("encoder.conv%d.w", i), []int{c, in, 3, 3}},
				ParamShape{fmt.Sprintf("encoder.conv%d.b", i), []int{c}})
			// stride 2, pad 1, kernel 3: ⌈n/2⌉, as graph.Conv2d.OutSize
			h, w = (h+2-3)/2+1, (w+2-3)/2+1
			in = c
		}
		features := spec.Channels[len(spec.Channels)-1] * h * w
		code(features)
		dense("decoder.dense", spec.Latent, features)
		chans := append([]int{spec.InputShape[0]}, spec.Channels...)
		for i := len(spec.Channels); i >= 1; i-- {
			k := len(spec.Channels) - i
			out = append(out, ParamShape{fmt.Sprintf("decoder.conv%d.w", k), []int{chans[i-1], chans[i], 3, 3}},
				ParamShape{fmt.Sprintf("decoder.conv%d.b", k), []int{chans[i-1]}})
		}
		return features
	}
	k, err := LookupKind(spec.Kind)
	if err != nil {
		return nil, err
	}
	// The kinds share four bodies, told apart by their traits.
	d := spec.InputShape[0] * spec.InputShape[1] * spec.InputShape[2]
	switch {
	case !k.Conv && !k.Variational: // basic, deep, denoising, sparse
		sizes := append(append([]int{d}, spec.Hidden...), spec.Latent)
		mlp("encoder", sizes)
		mlp("decoder", reversed(sizes))
	case k.Conv && !k.Variational: // conv
		if len(spec.Channels) == 0 {
			return nil, fmt.Errorf("model %s: needs at least one convolution channel count (channels)", spec.Kind)
		}
		convs(func(f int) { dense("encoder.code", f, spec.Latent) })
	case !k.Conv: // vae
		if len(spec.Hidden) == 0 {
			return nil, fmt.Errorf("model %s: needs at least one hidden layer (hidden)", spec.Kind)
		}
		sizes := append([]int{d}, spec.Hidden...)
		mlp("encoder", sizes)
		mlp("decoder", reversed(append(sizes, spec.Latent)))
		features := sizes[len(sizes)-1]
		dense("encoder.mu", features, spec.Latent)
		dense("encoder.logvar", features, spec.Latent)
	default: // convvae
		if len(spec.Channels) == 0 {
			return nil, fmt.Errorf("model %s: needs at least one convolution channel count (channels)", spec.Kind)
		}
		features := convs(func(int) {})
		dense("encoder.mu", features, spec.Latent)
		dense("encoder.logvar", features, spec.Latent)
	}
	return out, nil
}

// Size limits of a spec. They keep a corrupt or hostile spec (from a
// checkpoint, a config file or a flag) from making the process allocate
// without bound before any tensor is read.
const (
	// MaxSide bounds each of C, H and W.
	MaxSide = 1 << 16
	// MaxInputDim bounds C·H·W (16.7M values: 3×2048×2048 fits).
	MaxInputDim = 1 << 24
	// MaxWidth bounds each hidden width and the latent size.
	MaxWidth = 1 << 20
	// MaxChannels bounds each convolution's channel count.
	MaxChannels = 1 << 14
	// MaxLayers bounds the number of hidden layers and of conv stages.
	MaxLayers = 64
	// DefaultMaxParams is the default bound on a model's parameter count:
	// 200M float32 values are 800 MB of weights, about 2.4 GB with Adam's
	// two buffers. EnvMaxParams lifts it.
	DefaultMaxParams = 200_000_000
	// EnvMaxParams names the environment variable that sets the parameter
	// limit (a positive integer) in place of DefaultMaxParams.
	EnvMaxParams = "HOURGLASS_MAX_PARAMS"
)

// MaxParams is the parameter limit in force: $HOURGLASS_MAX_PARAMS when it
// is set to a positive integer, DefaultMaxParams otherwise.
func MaxParams() (int, error) {
	s := os.Getenv(EnvMaxParams)
	if s == "" {
		return DefaultMaxParams, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive integer number of parameters", EnvMaxParams, s)
	}
	return int(min(n, int64(^uint(0)>>1))), nil
}

// checkSizes bounds every size of the spec and its parameter count; the
// sizes are known positive here.
func (s Spec) checkSizes() error {
	for i, d := range s.InputShape {
		if d > MaxSide {
			return fmt.Errorf("model %s: input shape %v: size %d (%s) is over the limit of %d", s.Kind, s.InputShape, d, "CHW"[i:i+1], MaxSide)
		}
	}
	if n := s.InputShape[0] * s.InputShape[1] * s.InputShape[2]; n > MaxInputDim {
		return fmt.Errorf("model %s: input shape %v has %d values per sample, over the limit of %d", s.Kind, s.InputShape, n, MaxInputDim)
	}
	if s.Latent > MaxWidth {
		return fmt.Errorf("model %s: latent size %d is over the limit of %d", s.Kind, s.Latent, MaxWidth)
	}
	if len(s.Hidden) > MaxLayers || len(s.Channels) > MaxLayers {
		return fmt.Errorf("model %s: %d hidden layers and %d conv stages: at most %d of each", s.Kind, len(s.Hidden), len(s.Channels), MaxLayers)
	}
	for _, h := range s.Hidden {
		if h > MaxWidth {
			return fmt.Errorf("model %s: hidden width %d is over the limit of %d", s.Kind, h, MaxWidth)
		}
	}
	for _, c := range s.Channels {
		if c > MaxChannels {
			return fmt.Errorf("model %s: channel count %d is over the limit of %d", s.Kind, c, MaxChannels)
		}
	}
	shapes, err := ParamShapes(s)
	if err != nil {
		return err
	}
	limit, err := MaxParams()
	if err != nil {
		return fmt.Errorf("model %s: %w", s.Kind, err)
	}
	// With the bounds above no shape has more than about 2^57 values and
	// there are at most a few hundred shapes, so the sum cannot overflow.
	total := 0
	for _, p := range shapes {
		total += p.Size()
	}
	if total > limit {
		return fmt.Errorf("model %s: %d parameters (%.1f GB of float32 weights) are over the limit of %d; use smaller sizes, or set %s to a larger count to allow it",
			s.Kind, total, float64(total)*4/1e9, limit, EnvMaxParams)
	}
	return nil
}
