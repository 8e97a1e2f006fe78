package main

import (
	"github.com/hourglass-ml/hourglass/models"
)

// flops holds the multiply-adds of one image through a model, counted from
// its spec: the matrix products of dense layers and convolutions only
// (bias, activations, losses, upsampling and the optimizer are a few
// operations per value and are left out, so the bound is optimistic).
type flops struct {
	// ForwardMAC is one image through the training objective's forward
	// pass: for variational kinds both posterior heads.
	ForwardMAC int64
	// ReconstructMAC is one image through Decode(Encode(x)): for
	// variational kinds the log-variance head is not needed.
	ReconstructMAC int64
}

// TrainStep is the FLOPs of one training step of batch images: the forward
// multiply-adds ×2, and the backward pass ≈ 2× the forward (one product for
// the weights' gradient, one for the input's), so 6 FLOPs per multiply-add.
func (f flops) TrainStep(batch int) float64 { return 6 * float64(f.ForwardMAC) * float64(batch) }

// Score is the FLOPs of scoring n images (reconstruction, no gradients).
func (f flops) Score(n int) float64 { return 2 * float64(f.ReconstructMAC) * float64(n) }

// countFLOPs mirrors the architectures of models/: dense kinds are
// D → hidden… → latent → mirrored; conv kinds are stride-2 3×3 convolutions
// (pad 1) → dense code, then dense → (nearest upsample → 3×3 convolution)…;
// variational kinds have two heads (μ, log σ²) from the body's features.
func countFLOPs(s models.Spec) (flops, error) {
	k, err := models.LookupKind(s.Kind)
	if err != nil {
		return flops{}, err
	}
	if err := s.Validate(); err != nil {
		return flops{}, err
	}
	var body, decoder int64 // multiply-adds before the code and after it
	var features int
	if k.Conv {
		c, h, w := s.InputShape[0], s.InputShape[1], s.InputShape[2]
		type stage struct{ c, h, w int }
		stages := []stage{{c, h, w}}
		for _, out := range s.Channels {
			ho, wo := (h-1)/2+1, (w-1)/2+1 // ⌈n/2⌉: 3×3, stride 2, pad 1
			body += int64(ho*wo) * int64(out) * int64(c) * 9
			c, h, w = out, ho, wo
			stages = append(stages, stage{c, h, w})
		}
		features = c * h * w
		decoder += int64(s.Latent) * int64(features)
		// Upsample to the previous encoder size, then a same-size 3×3 conv
		// back to the previous stage's channels.
		for i := len(stages) - 1; i >= 1; i-- {
			in, out := stages[i], stages[i-1]
			decoder += int64(out.h*out.w) * int64(out.c) * int64(in.c) * 9
		}
	} else {
		sizes := append(append([]int{s.InputDim()}, s.Hidden...), s.Latent)
		if k.Variational {
			sizes = sizes[:len(sizes)-1] // the heads come from the last hidden layer
		}
		for i := 0; i+1 < len(sizes); i++ {
			body += int64(sizes[i]) * int64(sizes[i+1])
		}
		features = sizes[len(sizes)-1]
		if k.Variational {
			sizes = append(sizes, s.Latent)
		}
		for i := len(sizes) - 1; i >= 1; i-- {
			decoder += int64(sizes[i]) * int64(sizes[i-1])
		}
	}
	switch {
	case k.Variational: // μ and log σ² heads; reconstruction needs μ only
		head := int64(features) * int64(s.Latent)
		return flops{ForwardMAC: body + 2*head + decoder, ReconstructMAC: body + head + decoder}, nil
	case k.Conv: // the dense code layer
		head := int64(features) * int64(s.Latent)
		return flops{ForwardMAC: body + head + decoder, ReconstructMAC: body + head + decoder}, nil
	default: // the code layer is the encoder's last
		return flops{ForwardMAC: body + decoder, ReconstructMAC: body + decoder}, nil
	}
}
