package apps

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/internal/safeio"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// LossCurve puts the training loss curve of the run in runDir into out as
// loss.png: a copy of runDir/loss.png when training drew one, otherwise a
// plot of runDir/metrics.jsonl. It returns "" when the run left neither.
func LossCurve(runDir, out string) (string, error) {
	const name = "loss.png"
	if runDir == "" {
		return "", nil
	}
	if b, err := os.ReadFile(filepath.Join(runDir, name)); err == nil {
		if filepath.Clean(runDir) == filepath.Clean(out) {
			return name, nil
		}
		if err := ensureDir(out); err != nil {
			return "", err
		}
		if err := os.WriteFile(join(out, name), b, 0o644); err != nil {
			return "", fmt.Errorf("copying the loss curve: %w", err)
		}
		return name, nil
	}
	path := filepath.Join(runDir, "metrics.jsonl")
	f, _, err := safeio.Open(path) // a FIFO or device planted there must not hang the report
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the training metrics: %w", err)
	}
	defer f.Close()
	var ep, tr, val []float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		// Only the fields plotted are read, so records with more fields
		// (or from a newer trainer) still plot.
		var st struct {
			Epoch     float64  `json:"epoch"`
			TrainLoss *float64 `json:"train_loss"`
			ValLoss   *float64 `json:"val_loss"`
		}
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			return "", fmt.Errorf("%s line %d: %w", path, line, err)
		}
		if st.TrainLoss == nil {
			continue
		}
		v := nan()
		if st.ValLoss != nil {
			v = *st.ValLoss
		}
		ep, tr, val = append(ep, st.Epoch), append(tr, *st.TrainLoss), append(val, v)
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(ep) == 0 {
		return "", nil
	}
	if err := ensureDir(out); err != nil {
		return "", err
	}
	if err := eval.SaveLinePlot(join(out, name), "training loss", "epoch", "loss",
		eval.Series{Name: "train", X: ep, Y: tr}, eval.Series{Name: "validation", X: ep, Y: val}); err != nil {
		return "", err
	}
	return name, nil
}

// FigureInfo is what a reader needs to read a figure key: a human name,
// the unit and one sentence saying what the number means.
type FigureInfo struct{ Name, Unit, Meaning string }

// figureInfo describes every figure key the tasks report. Scores of the
// anomaly task take their unit from the score used (see scoreUnit).
var figureInfo = map[string]FigureInfo{
	"mse":               {"Mean squared error", "per value (MSE)", "Average squared difference between a test value and its reconstruction; lower is better."},
	"bce":               {"Binary cross-entropy", "nats per value", "Average cross-entropy of the reconstruction read as pixel probabilities; lower is better."},
	"psnr":              {"Peak signal-to-noise ratio", "dB", "10·log10(1/MSE) per image, averaged over images; higher is better, each +3 dB halves the error."},
	"ssim":              {"Structural similarity", "0 to 1", "Agreement of local brightness, contrast and structure between input and reconstruction; 1 is identical."},
	"compression_ratio": {"Compression ratio", "× (values per code value)", "Input values divided by code size: how much the bottleneck compresses."},
	"n":                 {"Samples", "count", "Number of samples the figures of this section are measured on."},
	"neg_log_lik_iwae":  {"Importance-weighted bound (−log p̂_k)", "nats per image", "Negative log-likelihood bound from k posterior draws per test image (IWAE); tighter than the one-draw ELBO, lower is better."},
	"neg_elbo_mc":       {"Negative ELBO, one draw", "nats per image", "The first of the same draws alone: the training loss's yardstick, for comparison with the bound."},
	"iwae_k":            {"IWAE draws", "count", "Posterior draws per image behind the importance-weighted bound."},

	"noisy_mse":           {"MSE of the noisy input", "per value (MSE)", "Error of the corrupted images against the clean ones: the starting point."},
	"denoised_mse":        {"MSE of the denoised output", "per value (MSE)", "Error of the model's output for the corrupted images against the clean ones; lower than the noisy MSE means the model removes noise."},
	"noisy_psnr":          {"PSNR of the noisy input", "dB", "Peak signal-to-noise ratio of the corrupted images against the clean ones."},
	"denoised_psnr":       {"PSNR of the denoised output", "dB", "Peak signal-to-noise ratio of the model's output against the clean images; higher than the noisy PSNR means the model removes noise."},
	"noisy_ssim":          {"SSIM of the noisy input", "0 to 1", "Structural similarity of the corrupted images to the clean ones."},
	"denoised_ssim":       {"SSIM of the denoised output", "0 to 1", "Structural similarity of the model's output to the clean images."},
	"model_psnr_noisy":    {"PSNR of the noisy input (model's own draw)", "dB", "The same measure from the model's own noise stream, as a cross-check."},
	"model_psnr_denoised": {"PSNR of the denoised output (model's own draw)", "dB", "The same measure from the model's own noise stream, as a cross-check."},
	"model_mse_noisy":     {"MSE of the noisy input (model's own draw)", "per value (MSE)", "The same measure from the model's own noise stream, as a cross-check."},
	"model_mse_denoised":  {"MSE of the denoised output (model's own draw)", "per value (MSE)", "The same measure from the model's own noise stream, as a cross-check."},

	"threshold":         {"Anomaly threshold", "score", "Score above which a sample is flagged as an anomaly."},
	"mean_score":        {"Mean anomaly score", "score", "Average score of the scored samples."},
	"normal_mean_score": {"Mean score of normal data", "score", "Average score of the samples the threshold was fitted on."},
	"neg_elbo":          {"Negative ELBO", "nats per image", "The VAE's objective per test image: reconstruction term plus β·KL; lower means the model finds the data more likely."},
	"n_flagged":         {"Samples flagged", "count", "Number of scored samples above the threshold."},
	"flagged_frac":      {"Share flagged", "fraction", "Share of the scored samples above the threshold."},
	"auroc":             {"AUROC", "0 to 1", "Chance that a random anomaly scores higher than a random normal sample; 0.5 is guessing, 1 is perfect."},
	"auprc":             {"AUPRC", "0 to 1", "Area under the precision-recall curve; compare with the share of anomalies, which is what guessing gets."},
	"precision":         {"Precision", "fraction", "Share of the flagged samples that are real anomalies."},
	"recall":            {"Recall", "fraction", "Share of the real anomalies that are flagged."},
	"normal_class":      {"Normal class", "label", "The class treated as normal; every other class counts as an anomaly."},
	"mean_auroc":        {"Mean one-class AUROC", "0 to 1", "AUROC averaged over the classes, each time with a model trained on that class only."},
	"pca_mean_auroc":    {"Mean one-class AUROC of PCA", "0 to 1", "The same protocol with a PCA of the same code size: the linear baseline."},
	"oneclass_epochs":   {"Epochs per class", "count", "Training epochs of each one-class model (the most of any class when sized from each class's rows)."},

	"latent":           {"Code size", "values", "Number of values in the model's code (the bottleneck)."},
	"knn_accuracy":     {"k-NN accuracy on codes", "fraction", "Test accuracy of a k-nearest-neighbour classifier on the model's codes: how well codes keep class identity."},
	"knn_pca_accuracy": {"k-NN accuracy on PCA features", "fraction", "The same classifier on PCA features of the same size: the linear baseline."},
	"knn_raw_accuracy": {"k-NN accuracy on raw inputs", "fraction", "The same classifier on the raw input values."},
	"knn_k":            {"k of k-NN", "count", "Neighbours the classifier votes over."},
	"knn_train":        {"k-NN training samples", "count", "Training samples the classifier searches."},

	"pca_components":         {"PCA components", "count", "Components of the PCA baseline: the model's code size."},
	"pca_mse":                {"PCA mean squared error", "per value (MSE)", "Reconstruction error of the PCA baseline; the model should be lower."},
	"pca_psnr":               {"PCA PSNR", "dB", "Peak signal-to-noise ratio of the PCA baseline's reconstructions."},
	"pca_ssim":               {"PCA SSIM", "0 to 1", "Structural similarity of the PCA baseline's reconstructions."},
	"pca_explained_variance": {"Variance explained by PCA", "fraction", "Share of the training data's variance the PCA components keep."},

	"gmm_components":    {"Mixture components", "count", "Gaussian components of the latent sampler fitted on the training codes."},
	"gmm_train_loglik":  {"Mixture log-likelihood of training codes", "nats per code", "Mean log-density of the training codes under the fitted mixture."},
	"gmm_test_loglik":   {"Mixture log-likelihood of test codes", "nats per code", "Mean log-density of the test codes under the mixture; near the training figure means it did not overfit."},
	"prior_test_loglik": {"Prior log-likelihood of test codes", "nats per code", "Mean log-density of the test codes under N(0, I): how far the codes are from what prior samples assume."},
}

// DescribeFigure returns the name, unit and meaning of a figure key; a key
// the table lacks is shown as itself.
func DescribeFigure(key string) (FigureInfo, bool) {
	f, ok := figureInfo[key]
	if !ok {
		return FigureInfo{Name: key, Unit: "", Meaning: ""}, false
	}
	return f, true
}

// scoreUnit is the unit of anomaly scores.
func scoreUnit(score any) string {
	if score == ScoreELBO {
		return "nats per image (negative ELBO)"
	}
	return "per value (reconstruction MSE)"
}

// taskTitles and taskIntros head each task's section.
var taskTitles = map[string]string{
	"recon": "Reconstruction", "denoise": "Denoising", "anomaly": "Anomaly detection",
	"anomaly-oneclass": "One-class anomaly detection", "features": "Codes as features",
	"pca": "Comparison with PCA", "sample": "Generation",
}

var taskIntros = map[string]string{
	"recon":            "How closely the model reproduces test images it never trained on.",
	"denoise":          "Test images are corrupted and passed through the model; the figures compare the noisy input and the model's output with the clean images.",
	"anomaly":          "Each sample is scored by how badly the model reconstructs it; samples above a threshold fitted on normal data are flagged.",
	"anomaly-oneclass": "For each class, a model trained on that class alone scores the whole test set; the other classes are the anomalies.",
	"features":         "The model's codes used as features: their layout in two dimensions and how well a nearest-neighbour classifier separates classes with them.",
	"pca":              "PCA with as many components as the model's code is the linear baseline an autoencoder must beat.",
	"sample":           "Images the variational model generates from its prior, and decodings along straight lines between the codes of two test images.",
}

// captions say what each picture shows.
var captions = map[string]string{
	"loss.png":            "Training loss per epoch on the training and validation sets (and, for the VAE, the validation reconstruction and KL parts); the y axis carries the loss's unit.",
	"reconstructions.png": "Rows marked input are test images; the row below each, marked output, holds the model's reconstructions of the same images.",
	"denoising.png":       "Clean test images (input), the corrupted versions given to the model (noisy) and the model's output (output), column by column.",
	"roc.png":             "ROC curve: the share of anomalies caught (true positive rate) against the share of normal samples flagged (false positive rate) as the threshold moves; the diagonal is guessing.",
	"latent.png":          "Codes of test images in two dimensions (the first two principal components when the code is wider), coloured by class: well separated colours mean the codes keep class identity.",
	"pca.png":             "Test images (input), the model's reconstructions and the PCA baseline's, column by column.",
	"samples.png":         "Decodings of 64 codes drawn from the prior N(0, I): what the model generates from nothing.",
	"interpolation.png":   "Each row starts and ends with a test image; between them, decodings of codes on the straight line from the first image's code to the second's.",
	"oneclass.png":        "AUROC per normal class for the model and for PCA of the same size; higher is better, 0.5 is guessing.",
	"scores.png":          "How many scored rows (with ground truth: normal rows and anomalies apart) have each anomaly score; rows right of the dashed threshold line are flagged.",
	"pr.png":              "Precision-recall curve: the share of flagged rows that are anomalies against the share of anomalies flagged as the threshold moves; the flat line is the share of anomalies, what guessing gets.",
}

// featureRows is how many features the report's per-feature table lists;
// scores.csv and the JSON output have them all.
const featureRows = 20

// ReportInfo is what the report says about the model and the run besides
// the results.
type ReportInfo struct {
	Title string
	// RunDir is the training run's directory, for its loss curve; it is
	// never written into the page.
	RunDir string
	Spec   models.Spec
	Params int
	// Data names the evaluated data; Checkpoint the checkpoint file (only
	// its base name is shown).
	Data, Checkpoint string
	// TrainConfig is the run's config.yaml as stored in the checkpoint;
	// EvalConfig the evaluation's settings, one "key: value" a line.
	TrainConfig, EvalConfig string
}

// Report writes out/report.html: the model and its settings, the training
// loss curve of info.RunDir when found, and one section per result with
// named figures, captioned pictures and notes. The page embeds its pictures
// and names no absolute path, so it can be sent on its own.
func Report(out string, info ReportInfo, results []*Result) (string, error) {
	rep := eval.Report{Title: info.Title, Spec: indentJSON(info.Spec.JSON()), Config: settings(info)}
	rep.About = append(rep.About, [2]string{"Model", fmt.Sprintf("%s autoencoder, %d parameters, code of %d values, input %v (C, H, W)",
		info.Spec.Kind, info.Params, info.Spec.Latent, info.Spec.InputShape)})
	if info.Data != "" {
		rep.About = append(rep.About, [2]string{"Data", info.Data})
	}
	if info.Checkpoint != "" {
		rep.About = append(rep.About, [2]string{"Checkpoint", filepath.Base(info.Checkpoint)})
	}
	loss, err := LossCurve(info.RunDir, out)
	if err != nil {
		return "", err
	}
	if loss != "" {
		rep.Sections = append(rep.Sections, eval.ReportSection{Title: "Training",
			Intro:  "The loss the model was trained to lower, per epoch, measured as " + train.LossName(info.Spec) + ".",
			Images: []eval.ReportImage{{Path: join(out, loss), Caption: captions[loss]}}})
	}
	for _, r := range results {
		rep.Sections = append(rep.Sections, section(out, r))
	}
	if err := ensureDir(out); err != nil {
		return "", err
	}
	path := join(out, "report.html")
	if err := eval.WriteReport(path, rep); err != nil {
		return "", err
	}
	return path, nil
}

// section turns a result into a report section. An anomaly result without
// a normal class has no figure that means anything for a model trained on
// every class, so the section says so instead of showing them.
func section(out string, r *Result) eval.ReportSection {
	s := eval.ReportSection{Title: cmpStr(taskTitles[r.Task], r.Task), Intro: taskIntros[r.Task], Notes: r.Notes}
	fe, table := r.Values["feature_errors"].([]FeatureError)
	if r.Task == "anomaly" && !table {
		// Rows of a table are flagged for what they are; pictures of a
		// model trained on every class have no normal class to stand out from.
		if _, ok := r.Figures["auroc"]; !ok {
			s.Intro = ""
			s.Notes = []string{"Left out: no normal class was given, so for a model trained on every class no sample is " +
				"an anomaly and AUROC, precision and recall would measure nothing. Train on one class and evaluate with " +
				"-task anomaly -normal-class K, or run -task anomaly-oneclass."}
			return s
		}
	}
	for _, k := range r.SortedFigures() {
		info, _ := DescribeFigure(k)
		if r.Task == "anomaly" && (k == "threshold" || strings.HasSuffix(k, "mean_score")) {
			info.Unit = scoreUnit(r.Values["score"])
		}
		s.Figures = append(s.Figures, eval.Figure{Key: k, Name: info.Name, Unit: info.Unit, Meaning: info.Meaning, Value: r.Figures[k]})
	}
	if table {
		s.Tables = append(s.Tables, featureTable(fe))
	}
	for _, img := range r.Images {
		s.Images = append(s.Images, eval.ReportImage{Path: join(out, img), Caption: cmpStr(captions[img], img)})
	}
	return s
}

// featureTable lists the features whose reconstruction error is largest.
func featureTable(fe []FeatureError) eval.ReportTable {
	t := eval.ReportTable{Caption: "Features by their share of the reconstruction error over the scored rows (scaled units)",
		Header: []string{"Feature", "Mean squared error", "Share of the error", "Mean squared error of flagged rows"}}
	if len(fe) > featureRows {
		t.Caption += fmt.Sprintf("; the %d largest of %d (scores.csv names each row's own)", featureRows, len(fe))
		fe = fe[:featureRows]
	}
	for _, f := range fe {
		flagged := "–"
		if f.FlaggedMSE != nil {
			flagged = fmt.Sprintf("%.4g", *f.FlaggedMSE)
		}
		t.Rows = append(t.Rows, []string{f.Feature, fmt.Sprintf("%.4g", f.MSE), fmt.Sprintf("%.1f%%", 100*f.Share), flagged})
	}
	return t
}

// settings is the training run's config without its comments (they name
// the run directory) followed by the evaluation's.
func settings(info ReportInfo) string {
	var b strings.Builder
	var kv map[string]any
	if json.Unmarshal([]byte(info.TrainConfig), &kv) == nil {
		// Checkpoints store the run's settings as a JSON object.
		b.WriteString("# training\n")
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			fmt.Fprintf(&b, "%s: %v\n", k, kv[k])
		}
	} else if info.TrainConfig != "" {
		b.WriteString("# training\n")
		for _, line := range strings.Split(strings.TrimSpace(info.TrainConfig), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				b.WriteString(line + "\n")
			}
		}
	}
	if info.EvalConfig != "" {
		b.WriteString("# evaluation\n" + strings.TrimSpace(info.EvalConfig) + "\n")
	}
	return b.String()
}

func indentJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
