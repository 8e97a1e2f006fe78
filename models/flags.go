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
	// Hidden is the -hidden list of encoder widths ("16,8"); empty keeps
	// the kind's default (sized from the width for tables).
	Hidden string
	// Output is the output activation: auto, sigmoid or linear.
	Output string
	// Overcomplete allows a code at least as wide as the input (sparse
	// and denoising models, which cannot simply copy it).
	Overcomplete bool
	// Rows is the number of training rows of a table, set by the caller
	// before SpecFor: it caps the default hidden width (TabularShape); 0
	// is unknown.
	Rows int

	fs *flag.FlagSet
}

// kindsWithFlag lists the kinds that take the kind-specific flag name.
func kindsWithFlag(name string) []string {
	var out []string
	for _, k := range Kinds() {
		if slices.Contains(registry[k].Flags, name) || shapeFlag(name, registry[k]) {
			out = append(out, k)
		}
	}
	return out
}

// shapeFlag reports whether the network-shape flag name applies to kind k:
// -hidden to the dense kinds with hidden layers, -overcomplete to the kinds
// that cannot learn the identity with a wide code (sparse, denoising).
func shapeFlag(name string, k Kind) bool {
	switch name {
	case "hidden":
		return !k.Conv && k.Name != "basic"
	case "overcomplete":
		return k.Name == "sparse" || k.Name == "denoising"
	}
	return false
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
	fs.StringVar(&f.Hidden, "hidden", "", "dense kinds: encoder hidden widths, e.g. 16,8 (the decoder mirrors them; default: the kind's, or sized from the width for tables)")
	fs.StringVar(&f.Output, "output", OutputAuto, "output activation: auto (sigmoid for data scaled to [0,1], linear otherwise), sigmoid or linear")
	fs.BoolVar(&f.Overcomplete, "overcomplete", false, "sparse, denoising: allow a code at least as wide as the input")
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

// Spec builds the spec the flags describe for inputs of shape C,H,W whose
// values lie in [0,1] (so -output auto is sigmoid); see SpecFor.
func (f *SpecFlags) Spec(inputShape []int, seed uint64) (Spec, error) {
	return f.SpecFor(inputShape, seed, true)
}

// SpecFor builds the spec the flags describe for inputs of shape C,H,W;
// unitRange says whether the model's (scaled) inputs lie in [0,1], which
// makes -output auto a sigmoid rather than linear. Tables (1×1×W) get a
// network sized from their width (TabularShape) unless -hidden or -latent
// say otherwise, and a code not smaller than the input is an error unless
// -overcomplete allows it.
func (f *SpecFlags) SpecFor(inputShape []int, seed uint64, unitRange bool) (Spec, error) {
	if err := f.Check(); err != nil {
		return Spec{}, err
	}
	s, err := DefaultSpec(f.Kind, inputShape, f.Latent)
	if err != nil {
		return Spec{}, err
	}
	if IsTabular(inputShape) && !kindOf(s).Conv {
		hidden, code := TabularShape(f.Kind, s.InputDim(), f.Rows, f.Latent)
		if len(s.Hidden) > 0 {
			s.Hidden = hidden
		}
		s.Latent = code
	}
	hidden, _ := ParseHidden(f.Hidden) // Check parsed it
	if len(hidden) > 0 {
		s.Hidden = hidden
	}
	if s.Latent >= s.InputDim() && !f.Overcomplete {
		hint := "choose a smaller -latent"
		if shapeFlag("overcomplete", kindOf(s)) {
			hint += ", or pass -overcomplete to train an overcomplete code on purpose"
		}
		return Spec{}, fmt.Errorf("-latent %d is not smaller than the input's %d values, so the %s model can learn to copy its input and every score would be near zero: %s", s.Latent, s.InputDim(), f.Kind, hint)
	}
	s.InitSeed = seed
	if s.Output, err = outputActivation(f.Output, unitRange); err != nil {
		return Spec{}, err
	}
	if f.ReconLoss != "" {
		s.Loss = f.ReconLoss
	} else if s.Output != OutputSigmoid {
		s.Loss = "mse" // cross-entropy needs outputs in (0,1)
	}
	if s.Loss == "bce" && s.Output != OutputSigmoid {
		return Spec{}, fmt.Errorf("-recon-loss bce needs -output sigmoid (data in [0,1]); with linear output use -recon-loss mse")
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
	names = append(names, "hidden", "overcomplete")
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
	if _, err := ParseHidden(f.Hidden); err != nil {
		return err
	}
	if _, err := outputActivation(f.Output, true); err != nil {
		return err
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
