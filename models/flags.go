package models

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/hourglass-ml/hourglass/graph"
)

// SpecFlags are the command-line settings that shape a model. cmd/train
// registers them so that every kind's knobs are reachable without the
// command knowing any kind. Flags of one kind given with another kind are
// an error rather than silently ignored.
type SpecFlags struct {
	Kind         string
	Latent       int
	ReconLoss    string
	Noise        string
	NoiseStd     float64
	NoiseFrac    float64
	SparsityL1   float64
	SparsityRho  float64
	SparsityBeta float64
	Beta         float64
	Init         string

	fs *flag.FlagSet
}

// kindsWithFlag lists the kinds that take the kind-specific flag name.
func kindsWithFlag(name string) []string {
	var out []string
	for _, k := range Kinds() {
		if slices.Contains(registry[k].Flags, name) {
			out = append(out, k)
		}
	}
	return out
}

// RegisterFlags defines the model flags on fs.
func RegisterFlags(fs *flag.FlagSet) *SpecFlags {
	f := &SpecFlags{fs: fs}
	fs.StringVar(&f.Kind, "model", "deep", "model kind: "+strings.Join(Kinds(), ", "))
	fs.IntVar(&f.Latent, "latent", 0, "code size (0: the kind's default)")
	fs.StringVar(&f.ReconLoss, "recon-loss", "", "reconstruction loss: mse or bce (default: bce for vae and convvae, mse otherwise)")
	fs.StringVar(&f.Noise, "noise", NoiseGaussian, "denoising: corruption, one of "+strings.Join(NoiseKinds(), ", "))
	fs.Float64Var(&f.NoiseStd, "noise-std", DefaultNoiseStd, "denoising: standard deviation of gaussian noise")
	fs.Float64Var(&f.NoiseFrac, "noise-frac", DefaultNoiseFrac, "denoising: fraction of inputs mask or saltpepper noise hits")
	fs.Float64Var(&f.SparsityL1, "sparsity-l1", DefaultSparsityL1, "sparse: weight of the L1 activity penalty Σ|code| per image (default 0 when -sparsity-rho is set)")
	fs.Float64Var(&f.SparsityRho, "sparsity-rho", 0, "sparse: target mean activation of a sigmoid code for the KL penalty (0: ReLU code, L1 penalty only)")
	fs.Float64Var(&f.SparsityBeta, "sparsity-beta", DefaultSparsityBeta, "sparse: weight of the KL sparsity penalty (with -sparsity-rho)")
	fs.Float64Var(&f.Beta, "beta", DefaultBeta, "vae, convvae: weight of the KL term of the ELBO")
	fs.StringVar(&f.Init, "init", "", "weight initialisation: he-glorot (He for ReLU layers, Glorot otherwise, zero biases) or torch (PyTorch's U(±1/√fan_in)) (default: torch for vae and conv, he-glorot otherwise)")
	return f
}

// set reports whether the flag called name was given on the command line.
func (f *SpecFlags) set(name string) bool {
	found := false
	if f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { found = found || fl.Name == name })
	}
	return found
}

// Spec builds the spec the flags describe for inputs of shape C,H,W.
func (f *SpecFlags) Spec(inputShape []int, seed uint64) (Spec, error) {
	if err := f.Check(); err != nil {
		return Spec{}, err
	}
	s, err := DefaultSpec(f.Kind, inputShape, f.Latent)
	if err != nil {
		return Spec{}, err
	}
	s.InitSeed = seed
	if f.ReconLoss != "" {
		s.Loss = f.ReconLoss
	}
	if k := kindOf(s); k.FromFlags != nil {
		k.FromFlags(f, &s)
	}
	if f.Init != "" {
		s.Init = f.Init
	}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("model flags: %w", err)
	}
	return s, nil
}

// kindFlags lists every kind-specific flag, sorted.
func kindFlags() []string {
	var names []string
	for _, k := range registry {
		for _, n := range k.Flags {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Check validates the flags before any data is loaded, so a typo fails fast.
func (f *SpecFlags) Check() error {
	if _, err := DefaultSpec(f.Kind, []int{1, 1, 1}, 1); err != nil {
		return fmt.Errorf("-model: %w", err)
	}
	if f.Latent < 0 {
		return fmt.Errorf("-latent %d: must be positive (or 0 for the default)", f.Latent)
	}
	if _, err := graph.ParseScheme(f.Init); err != nil {
		return fmt.Errorf("-init: %w", err)
	}
	if f.ReconLoss != "" && f.ReconLoss != "mse" && f.ReconLoss != "bce" {
		return fmt.Errorf("-recon-loss %q: valid: mse, bce", f.ReconLoss)
	}
	k := registry[f.Kind] // DefaultSpec above checked that it exists
	for _, name := range kindFlags() {
		if kinds := kindsWithFlag(name); f.set(name) && !slices.Contains(kinds, f.Kind) {
			return fmt.Errorf("-%s applies only to -model %s, not %s", name, strings.Join(kinds, " or "), f.Kind)
		}
	}
	if k.CheckFlags != nil {
		return k.CheckFlags(f)
	}
	return nil
}
