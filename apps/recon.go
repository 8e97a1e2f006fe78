package apps

import (
	"fmt"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
)

// gridImages is how many samples the pictures show.
const gridImages = 20

// Recon measures how well m reconstructs test: MSE and the compression
// ratio (input size / code size) and, for pictures, BCE, mean per-image
// PSNR and SSIM, and draws reconstructions.png into out.
func Recon(m models.Model, test *dataset.Dataset, out string) (*Result, error) {
	if err := CheckShape(m, test); err != nil {
		return nil, err
	}
	recon, err := models.Reconstruct(m, test.X, test.N)
	if err != nil {
		return nil, fmt.Errorf("reconstructing %s: %w", test.Name, err)
	}
	r := newResult("recon")
	spec := m.Spec()
	r.Figures["mse"] = eval.MSE(test.X, recon)
	r.Figures["compression_ratio"] = float64(spec.InputDim()) / float64(spec.Latent)
	r.Figures["n"] = float64(test.N)
	if IsVariational(m) {
		// Seeded with 1, so the figure is the same from run to run.
		b, err := ImportanceBound(m, test, DefaultIWAESamples, 1)
		if err != nil {
			return nil, err
		}
		r.Figures["neg_log_lik_iwae"], r.Figures["neg_elbo_mc"] = mean(b.NegLogLik), mean(b.NegELBO)
		r.Figures["iwae_k"] = float64(b.K)
	}
	if !IsImage(test) {
		// Pixel figures and pictures mean nothing for the rows of a table.
		r.note("rows of a table: MSE in scaled units; PSNR, SSIM and pictures are for images")
		return r, nil
	}
	if inUnitRange(test.X) {
		r.Figures["bce"] = eval.BCE(test.X, recon)
		r.Figures["psnr"] = eval.MeanPSNR(test.X, recon, test.Dim(), 1)
	} else {
		r.note("data is not in [0,1]: BCE and PSNR left out")
	}
	r.Figures["ssim"] = eval.MeanSSIM(test.X, recon, test.C, test.H, test.W)
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	x, n := head(test, gridImages)
	if err := eval.SaveReconstructionGrid(join(out, "reconstructions.png"), x, recon[:len(x)], n, test.C, test.H, test.W); err != nil {
		return nil, err
	}
	r.image("reconstructions.png")
	return r, nil
}

// PCACompare fits a PCA with m's code size on train (the linear baseline an
// autoencoder must beat) and reports its test MSE and PSNR beside m's, with
// pca.png: inputs, the model's reconstructions and PCA's, row by row.
func PCACompare(m models.Model, train, test *dataset.Dataset, out string) (*Result, error) {
	for _, d := range []*dataset.Dataset{train, test} {
		if err := CheckShape(m, d); err != nil {
			return nil, err
		}
	}
	k := min(m.Spec().Latent, train.N, train.Dim())
	pca, err := eval.FitPCA(train.X, train.N, train.Dim(), k)
	if err != nil {
		return nil, fmt.Errorf("PCA baseline on %s: %w", train.Name, err)
	}
	pcaRec := pca.Reconstruct(test.X, test.N)
	recon, err := models.Reconstruct(m, test.X, test.N)
	if err != nil {
		return nil, fmt.Errorf("reconstructing %s: %w", test.Name, err)
	}
	r := newResult("pca")
	r.Figures["pca_components"] = float64(k)
	r.Figures["mse"] = eval.MSE(test.X, recon)
	r.Figures["pca_mse"] = eval.MSE(test.X, pcaRec)
	if IsImage(test) && inUnitRange(test.X) {
		r.Figures["psnr"] = eval.MeanPSNR(test.X, recon, test.Dim(), 1)
		r.Figures["pca_psnr"] = eval.MeanPSNR(test.X, pcaRec, test.Dim(), 1)
	}
	var total float64
	for _, v := range pca.ExplainedVarianceRatio() {
		total += v
	}
	r.Figures["pca_explained_variance"] = total
	if !IsImage(test) {
		return r, nil
	}
	r.Figures["ssim"] = eval.MeanSSIM(test.X, recon, test.C, test.H, test.W)
	r.Figures["pca_ssim"] = eval.MeanSSIM(test.X, pcaRec, test.C, test.H, test.W)
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	x, n := head(test, 10)
	rows := []eval.GridRow{{Title: "input", Images: x}, {Title: m.Spec().Kind, Images: recon[:len(x)]},
		{Title: fmt.Sprintf("PCA-%d", k), Images: pcaRec[:len(x)]}}
	if err := eval.SaveLabelledGrid(join(out, "pca.png"), fmt.Sprintf("test images, the %s reconstructions and PCA's with %d components", m.Spec().Kind, k),
		rows, test.C, test.H, test.W, n); err != nil {
		return nil, fmt.Errorf("PCA picture: %w", err)
	}
	r.image("pca.png")
	r.note("pca.png rows: inputs, %s reconstructions, PCA-%d reconstructions", m.Spec().Kind, k)
	return r, nil
}
