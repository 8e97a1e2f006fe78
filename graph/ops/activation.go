package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Activation names an element-wise non-linearity. It lives here rather than
// in package graph because the fused ops take it as a parameter and graph
// imports ops, not the reverse; graph re-exports it under the same name.
type Activation string

// The activations a layer may use.
const (
	ReLU     Activation = "relu"
	Sigmoid  Activation = "sigmoid"
	Tanh     Activation = "tanh"
	Identity Activation = "identity"
)

// Apply builds act(x).
func (a Activation) Apply(x *G.Node) (*G.Node, error) {
	switch a {
	case ReLU:
		return G.Rectify(x)
	case Sigmoid:
		return G.Sigmoid(x)
	case Tanh:
		return G.Tanh(x)
	case Identity, "":
		return x, nil
	}
	return nil, fmt.Errorf("unknown activation %q", a)
}

// fusedActOK reports whether the fused ops implement act.
func fusedActOK(act Activation) bool {
	switch act {
	case ReLU, Sigmoid, Tanh, Identity:
		return true
	}
	return false
}
