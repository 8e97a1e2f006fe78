package models

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Kind is everything hourglass knows about one model kind, declared in the
// kind's own file: adding a kind is one file (its Kind, its model type and
// its tests), with nothing to edit elsewhere.
type Kind struct {
	Name string
	// Order places the kind in listings (Kinds, help texts, the README).
	Order int
	// Summary is a line for help texts.
	Summary string
	// Defaults sets the kind's own fields of s (hidden sizes, latent,
	// loss, initialisation, noise, ...) on top of the common defaults.
	Defaults func(s *Spec)
	// Build makes the model of a validated spec.
	Build func(s Spec) (Model, error)
	// Conv kinds take Channels instead of Hidden.
	Conv bool
	// Variational kinds have a Beta-weighted KL term and implement
	// Variational and Generator.
	Variational bool
	// Flags are the command-line flags (SpecFlags) only this kind takes.
	Flags []string
	// Validate checks the kind's own fields of a spec (nil: nothing to check).
	Validate func(s Spec) error
	// FromFlags copies the kind's own flags into s (nil: none).
	FromFlags func(f *SpecFlags, s *Spec)
	// CheckFlags checks the kind's own flags before any data is loaded.
	CheckFlags func(f *SpecFlags) error
}

// registry holds the kinds. It is written only by the kinds' init
// functions, before main runs, and read-only after that.
var registry = map[string]Kind{}

// register adds a kind; a kind file calls it from init.
func register(k Kind) {
	if _, dup := registry[k.Name]; dup {
		panic("models: kind " + k.Name + " registered twice") // a programming error, caught by any test
	}
	registry[k.Name] = k
}

// Kinds lists the model kinds in their Order.
func Kinds() []string {
	ks := make([]Kind, 0, len(registry))
	for _, k := range registry {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b Kind) int { return cmp.Compare(a.Order, b.Order) })
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return names
}

// LookupKind returns the kind called name.
func LookupKind(name string) (Kind, error) {
	k, ok := registry[name]
	if !ok {
		return Kind{}, fmt.Errorf("unknown model kind %q (valid: %s)", name, strings.Join(Kinds(), ", "))
	}
	return k, nil
}

// kindOf is the registered kind of a spec; Validate has already checked
// that it exists.
func kindOf(s Spec) Kind { return registry[s.Kind] }
