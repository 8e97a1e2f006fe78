package apps

import (
	"fmt"
	"slices"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
)

// Denoise corrupts test with noise (seeded), runs the noisy images through m
// and measures PSNR/SSIM/MSE of the noisy inputs and of m's outputs against
// the clean images; denoising.png shows clean / noisy / denoised rows.
func Denoise(m models.Model, test *dataset.Dataset, noise models.NoiseSpec, seed uint64, out string) (*Result, error) {
	if err := CheckShape(m, test); err != nil {
		return nil, err
	}
	noisy := slices.Clone(test.X)
	if err := models.Corrupt(noise, noisy, rngFor(seed, 0xde4015e)); err != nil {
		return nil, err
	}
	den, err := models.Reconstruct(m, noisy, test.N)
	if err != nil {
		return nil, fmt.Errorf("denoising %s: %w", test.Name, err)
	}
	r := newResult("denoise")
	r.Figures["noisy_mse"] = eval.MSE(test.X, noisy)
	r.Figures["denoised_mse"] = eval.MSE(test.X, den)
	r.Figures["noisy_psnr"] = eval.MeanPSNR(test.X, noisy, test.Dim(), 1)
	r.Figures["denoised_psnr"] = eval.MeanPSNR(test.X, den, test.Dim(), 1)
	r.Values["noise"] = noise
	if f, ok := m.(models.Figurer); ok && m.Spec().Noise != nil && *m.Spec().Noise == noise {
		// The model's own figures use the same corruption (drawn from
		// another stream); they are shown as a cross-check.
		own, err := f.Figures(test.X, test.N, seed)
		if err != nil {
			return nil, fmt.Errorf("%s figures: %w", m.Spec().Kind, err)
		}
		for k, v := range own {
			r.Figures["model_"+k] = v
		}
	}
	if !IsImage(test) {
		r.note("samples are not images: SSIM and denoising.png left out")
		return r, nil
	}
	r.Figures["noisy_ssim"] = eval.MeanSSIM(test.X, noisy, test.C, test.H, test.W)
	r.Figures["denoised_ssim"] = eval.MeanSSIM(test.X, den, test.C, test.H, test.W)
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	x, n := head(test, gridImages)
	if err := eval.SaveDenoisingGrid(join(out, "denoising.png"), x, noisy[:len(x)], den[:len(x)], n, test.C, test.H, test.W); err != nil {
		return nil, err
	}
	r.image("denoising.png")
	return r, nil
}
