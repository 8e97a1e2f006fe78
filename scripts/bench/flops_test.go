package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
)

func TestCountFLOPs(t *testing.T) {
	spec := func(kind string, shape []int, edit func(s *models.Spec)) models.Spec {
		s, err := models.DefaultSpec(kind, shape, 0)
		require.NoError(t, err)
		edit(&s)
		return s
	}
	tests := []struct {
		name          string
		spec          models.Spec
		forward, reco int64
	}{
		// 1×2×2 images, 4 → 3 → 2 → 3 → 4: 12 + 6 + 6 + 12 multiply-adds.
		{"deep tiny", spec("deep", []int{1, 2, 2}, func(s *models.Spec) { s.Hidden, s.Latent = []int{3}, 2 }), 36, 36},
		// 4 → 2 → 4.
		{"basic tiny", spec("basic", []int{1, 2, 2}, func(s *models.Spec) { s.Latent = 2 }), 16, 16},
		// 4 → 3, heads 3 → 2 twice (6 + 6), 2 → 3 → 4: 12 + 12 + 6 + 12; reconstruct drops one head.
		{"vae tiny", spec("vae", []int{1, 2, 2}, func(s *models.Spec) { s.Hidden, s.Latent = []int{3}, 2 }), 42, 36},
		// 1×4×4, channels 2: conv 3×3/2 → 2×2×2 = 4 positions × 2 out × 1 in × 9 = 72;
		// code 8 → 3 = 24; dense 3 → 8 = 24; upsample to 4×4, conv 2 → 1:
		// 16 positions × 1 × 2 × 9 = 288.
		{"conv tiny", spec("conv", []int{1, 4, 4}, func(s *models.Spec) { s.Channels, s.Latent = []int{2}, 3 }), 72 + 24 + 24 + 288, 72 + 24 + 24 + 288},
		// The same body with two heads: + 24 for log σ².
		{"convvae tiny", spec("convvae", []int{1, 4, 4}, func(s *models.Spec) { s.Channels, s.Latent = []int{2}, 3 }), 72 + 48 + 24 + 288, 72 + 24 + 24 + 288},
		// The figures: deep 0.08 TFLOP per epoch of 60,000 images.
		{"deep as the peer", spec("deep", []int{1, 28, 28}, func(s *models.Spec) { s.Hidden, s.Latent = []int{128, 64}, 32 }), 221184, 221184},
		// The kind's default since 2026-12-02: 784-512-256-32.
		{"deep default", spec("deep", []int{1, 28, 28}, func(*models.Spec) {}), 2 * (784*512 + 512*256 + 256*32), 2 * (784*512 + 512*256 + 256*32)},
		// 28 → 14 → 7: 14²·32·9 + 7²·64·32·9 + 3136·32 ×2 + 14²·32·64·9 + 28²·32·9.
		{"conv default", spec("conv", []int{1, 28, 28}, func(*models.Spec) {}), 4998784, 4998784},
		{"vae default", spec("vae", []int{1, 28, 28}, func(*models.Spec) {}), 651200, 643200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := countFLOPs(tt.spec)
			require.NoError(t, err)
			require.Equal(t, tt.forward, f.ForwardMAC)
			require.Equal(t, tt.reco, f.ReconstructMAC)
			require.Equal(t, 6*float64(tt.forward)*128, f.TrainStep(128))
			require.Equal(t, 2*float64(tt.reco)*10, f.Score(10))
		})
	}
}

func TestCountFLOPsUnknownKind(t *testing.T) {
	_, err := countFLOPs(models.Spec{Kind: "nope"})
	require.ErrorContains(t, err, "nope")
}
