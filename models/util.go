package models

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func tensorOf(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// initRNG is the weight initialisation stream of a spec.
func initRNG(spec Spec) *rand.Rand {
	return rand.New(rand.NewPCG(spec.InitSeed, 0x6f75726c617373))
}

// checkInput reports a batch whose width is not the model's C·H·W.
func checkInput(spec Spec, x *G.Node) error {
	if x.Dims() != 2 || x.Shape()[1] != spec.InputDim() {
		s := spec.InputShape
		return fmt.Errorf("model %s: input shape %v, want (batch, %d) for %d×%d×%d images", spec.Kind, x.Shape(), spec.InputDim(), s[0], s[1], s[2])
	}
	return nil
}

// checkCode reports a batch of codes whose width is not the latent size.
func checkCode(spec Spec, z *G.Node) error {
	if z.Dims() != 2 || z.Shape()[1] != spec.Latent {
		return fmt.Errorf("model %s: code shape %v, want (batch, %d)", spec.Kind, z.Shape(), spec.Latent)
	}
	return nil
}

// meanOf is the mean of xs in float64.
func meanOf(xs []float32) float64 {
	var s float64
	for _, v := range xs {
		s += float64(v)
	}
	return s / float64(len(xs))
}
