package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

func init() {
	register(Kind{Name: "denoising", Order: 30, Summary: "deep net (256-128-64) trained to map a corrupted input to the clean one",
		Defaults: func(s *Spec) {
			s.Hidden, s.Latent = []int{256, 128}, 64
			s.Noise = &NoiseSpec{Kind: NoiseGaussian, Std: DefaultNoiseStd}
		},
		Build:    func(s Spec) (Model, error) { return newDenoisingAE(s) },
		Flags:    []string{"noise", "noise-std", "noise-frac"},
		Validate: Spec.validateNoise,
		FromFlags: func(f *SpecFlags, s *Spec) {
			s.Noise = &NoiseSpec{Kind: f.Noise}
			if f.Noise == NoiseGaussian {
				s.Noise.Std = f.NoiseStd
			} else {
				s.Noise.Frac = f.NoiseFrac
			}
		},
		CheckFlags: func(f *SpecFlags) error {
			n := NoiseSpec{Kind: f.Noise, Std: f.NoiseStd, Frac: f.NoiseFrac}
			if err := n.Validate(); err != nil {
				return fmt.Errorf("-noise: %w", err)
			}
			return nil
		},
	})
}

// denoisingAE is the deep autoencoder trained to undo a corruption:
//
//	x̃ ~ corrupt(x)        fresh noise every batch
//	x̂ = decoder(encoder(x̃))
//	loss = mean (x̂ − x)²  the clean image is the target
type denoisingAE struct {
	*denseAE
	noise NoiseSpec
}

func newDenoisingAE(spec Spec) (*denoisingAE, error) {
	net, err := newDenseAE(spec)
	if err != nil {
		return nil, err
	}
	return &denoisingAE{denseAE: net, noise: *spec.Noise}, nil
}

func (m *denoisingAE) Objective(g *G.ExprGraph, batch int) (*Objective, error) {
	dim := m.spec.InputDim()
	noisy, noisyData := input(g, "x_noisy", batch, dim)
	clean, cleanData := input(g, "x", batch, dim)
	z, err := m.Encode(noisy)
	if err != nil {
		return nil, err
	}
	xHat, err := m.Decode(z)
	if err != nil {
		return nil, err
	}
	loss, err := m.loss.Build(xHat, clean)
	if err != nil {
		return nil, err
	}
	feed := func(x []float32, rng *rand.Rand) {
		feedCopy(cleanData, x)
		kernels.Copy(noisyData, x)
		if rng != nil {
			m.noise.applyClip(noisyData, rng, m.spec.Output == "sigmoid")
		}
	}
	return &Objective{Graph: g, Batch: batch, Loss: loss, Feed: feed, Input: cleanData}, nil
}

// Figures corrupts x with noise drawn from seed and reports how far the
// noisy and the denoised images are from the clean ones: mean per-image
// PSNR (dB, peak 1) and MSE of each.
func (m *denoisingAE) Figures(x []float32, n int, seed uint64) (map[string]float64, error) {
	noisy := append([]float32(nil), x...)
	if err := Corrupt(m.noise, noisy, rand.New(rand.NewPCG(seed, 0xc0446))); err != nil {
		return nil, err
	}
	out, err := Reconstruct(m, noisy, n)
	if err != nil {
		return nil, err
	}
	dim := m.spec.InputDim()
	return map[string]float64{
		"psnr_noisy":    meanPSNR(x, noisy, dim),
		"psnr_denoised": meanPSNR(x, out, dim),
		"mse_noisy":     mse(x, noisy),
		"mse_denoised":  mse(x, out),
	}, nil
}

// The corruptions a denoising model can be trained against.
const (
	NoiseGaussian   = "gaussian"   // x + N(0, std²), clipped to [0, 1] (unless the output is linear)
	NoiseMask       = "mask"       // each value zeroed with probability frac
	NoiseSaltPepper = "saltpepper" // each value set to 0 or 1 (even odds) with probability frac
)

// NoiseKinds lists the corruption names.
func NoiseKinds() []string { return []string{NoiseGaussian, NoiseMask, NoiseSaltPepper} }

// Validate checks the corruption's settings.
func (n NoiseSpec) Validate() error {
	switch n.Kind {
	case NoiseGaussian:
		if !(n.Std > 0) || math.IsInf(n.Std, 0) {
			return fmt.Errorf("gaussian noise: standard deviation %g must be positive (-noise-std)", n.Std)
		}
	case NoiseMask, NoiseSaltPepper:
		if !(n.Frac > 0 && n.Frac <= 1) {
			return fmt.Errorf("%s noise: fraction %g must be in (0, 1] (-noise-frac)", n.Kind, n.Frac)
		}
	default:
		return fmt.Errorf("unknown noise %q (valid: gaussian, mask, saltpepper)", n.Kind)
	}
	return nil
}

// Corrupt applies the corruption noise to x in place, drawing from rng.
// The same rng state gives the same corruption, so evaluation noise is
// reproducible.
func Corrupt(noise NoiseSpec, x []float32, rng *rand.Rand) error {
	if err := noise.Validate(); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("corrupt: a random source is needed")
	}
	noise.apply(x, rng)
	return nil
}

func (n NoiseSpec) apply(x []float32, rng *rand.Rand) { n.applyClip(x, rng, true) }

// applyClip corrupts x; clip keeps gaussian-noised values in [0, 1], right
// for pictures and data a sigmoid output reproduces, wrong for data of any
// sign (a linear-output model on standardised tables).
func (n NoiseSpec) applyClip(x []float32, rng *rand.Rand, clip bool) {
	switch n.Kind {
	case NoiseGaussian:
		for i, v := range x {
			x[i] = v + float32(n.Std*rng.NormFloat64())
			if clip {
				x[i] = min(max(x[i], 0), 1)
			}
		}
	case NoiseMask:
		for i := range x {
			if rng.Float64() < n.Frac {
				x[i] = 0
			}
		}
	case NoiseSaltPepper:
		for i := range x {
			if rng.Float64() < n.Frac {
				x[i] = float32(rng.IntN(2))
			}
		}
	}
}

// mse is the mean squared difference of a and b.
func mse(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s / float64(len(a))
}

// psnrCap is reported for identical images, as eval.PSNRCap.
const psnrCap = 100.0

// meanPSNR is the mean over images of dim values of 10·log10(1/MSE), as
// eval.MeanPSNR with peak 1 (models cannot import eval).
func meanPSNR(a, b []float32, dim int) float64 {
	n := len(a) / dim
	var s float64
	for i := range n {
		e := mse(a[i*dim:(i+1)*dim], b[i*dim:(i+1)*dim])
		if e == 0 {
			s += psnrCap
			continue
		}
		s += min(10*math.Log10(1/e), psnrCap)
	}
	return s / float64(n)
}
