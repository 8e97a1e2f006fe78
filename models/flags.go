package models

import (
	"flag"
	"fmt"
	"strings"
)

// SpecFlags are the command-line settings that shape a model. cmd/train
// registers them so that every kind's knobs are reachable without the
// command knowing any kind.
type SpecFlags struct {
	Kind   string
	Latent int
}

// RegisterFlags defines the model flags on fs.
func RegisterFlags(fs *flag.FlagSet) *SpecFlags {
	f := &SpecFlags{}
	fs.StringVar(&f.Kind, "model", "deep", "model kind: "+strings.Join(Kinds(), ", "))
	fs.IntVar(&f.Latent, "latent", 0, "code size (0: the kind's default)")
	return f
}

// Spec builds the spec the flags describe for inputs of shape C,H,W.
func (f *SpecFlags) Spec(inputShape []int, seed uint64) (Spec, error) {
	if f.Latent < 0 {
		return Spec{}, fmt.Errorf("-latent %d: must be positive (or 0 for the default)", f.Latent)
	}
	s, err := DefaultSpec(f.Kind, inputShape, f.Latent)
	if err != nil {
		return Spec{}, err
	}
	s.InitSeed = seed
	return s, s.Validate()
}

// Check validates the flags before any data is loaded, so a typo fails fast.
func (f *SpecFlags) Check() error {
	if _, err := DefaultSpec(f.Kind, []int{1, 1, 1}, 1); err != nil {
		return fmt.Errorf("-model: %w", err)
	}
	if f.Latent < 0 {
		return fmt.Errorf("-latent %d: must be positive (or 0 for the default)", f.Latent)
	}
	return nil
}
