package apps

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// Score kinds of Anomaly.
const (
	ScoreRecon = "recon" // per-sample reconstruction MSE
	ScoreELBO  = "elbo"  // per-sample negative ELBO (variational kinds)
)

// AnomalyOptions says how anomalies are scored and thresholded.
type AnomalyOptions struct {
	// Percentile of the normal data's scores used as threshold, in [0,100].
	Percentile float64
	// Contamination, when positive, replaces Percentile: the threshold flags
	// this share of the scored data, in (0, 0.5].
	Contamination float64
	// NormalClass, when >= 0, is the label of normal samples; every other
	// label is an anomaly, which gives AUROC, AUPRC and roc.png.
	NormalClass int
	// Score is ScoreRecon (default) or ScoreELBO.
	Score string
	Seed  uint64
}

// Check validates the options before any work is done.
func (o AnomalyOptions) Check() error {
	switch {
	case math.IsNaN(o.Percentile) || o.Percentile < 0 || o.Percentile > 100:
		return fmt.Errorf("-percentile %g: must be between 0 and 100 (e.g. 99 flags what scores above 99%% of the normal data)", o.Percentile)
	case o.Contamination != 0 && !(o.Contamination > 0 && o.Contamination <= 0.5):
		return fmt.Errorf("-contamination %g: must be in (0, 0.5], the expected share of anomalies", o.Contamination)
	case o.Score != "" && o.Score != ScoreRecon && o.Score != ScoreELBO:
		return fmt.Errorf("-score %q: must be %s or %s", o.Score, ScoreRecon, ScoreELBO)
	}
	return nil
}

// ReconScores is each sample's reconstruction MSE under m.
func ReconScores(m models.Model, d *dataset.Dataset) ([]float64, error) {
	recon, err := models.Reconstruct(m, d.X, d.N)
	if err != nil {
		return nil, fmt.Errorf("reconstructing %s: %w", d.Name, err)
	}
	return eval.SampleMSE(d.X, recon, d.Dim())
}

// NegELBOScores is each sample's negative ELBO under a variational m, in
// nats per image as its training objective counts it, computed by the
// model's own graph (models.Variational.NegELBO): the reconstruction term
// of the decoded posterior mean plus β·KL(q(z|x) ‖ N(0, I)). Using the
// mean (ε = 0) rather than a draw makes the score deterministic.
func NegELBOScores(m models.Model, d *dataset.Dataset) ([]float64, error) {
	if !IsVariational(m) {
		return nil, fmt.Errorf("the negative ELBO needs a variational model (vae, convvae), not %s", m.Spec().Kind)
	}
	return models.Scores(m, d.X, d.N)
}

func scoresOf(m models.Model, d *dataset.Dataset, opt AnomalyOptions) ([]float64, error) {
	if opt.Score == ScoreELBO {
		return NegELBOScores(m, d)
	}
	return ReconScores(m, d)
}

// Anomaly scores every sample of scored, fits a threshold on normal (at
// opt.Percentile of its scores) or on scored itself (opt.Contamination),
// writes scores.csv into out and, when labels say which samples are
// anomalies, AUROC, AUPRC and roc.png.
func Anomaly(m models.Model, scored, normal *dataset.Dataset, opt AnomalyOptions, out string) (*Result, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	for _, d := range []*dataset.Dataset{scored, normal} {
		if err := CheckShape(m, d); err != nil {
			return nil, err
		}
	}
	if normal.N == 0 {
		return nil, fmt.Errorf("no normal samples to fit the threshold on (%s is empty); check -normal / -normal-class", normal.Name)
	}
	if opt.Score == "" {
		opt.Score = ScoreRecon
	}
	r := newResult("anomaly")
	recon, err := ReconScores(m, scored)
	if err != nil {
		return nil, err
	}
	var elbo []float64
	if IsVariational(m) {
		if elbo, err = NegELBOScores(m, scored); err != nil {
			return nil, err
		}
		r.Figures["neg_elbo"] = mean(elbo)
	} else if opt.Score == ScoreELBO {
		return nil, fmt.Errorf("-score elbo needs a variational model (vae, convvae), not %s; use -score recon", m.Spec().Kind)
	}
	scores := recon
	if opt.Score == ScoreELBO {
		scores = elbo
	}
	var threshold float64
	if opt.Contamination > 0 {
		threshold, err = eval.ThresholdFromContamination(scores, opt.Contamination)
		r.Values["threshold_from"] = fmt.Sprintf("contamination %g of %s", opt.Contamination, scored.Name)
	} else {
		var ns []float64
		if ns, err = scoresOf(m, normal, opt); err == nil {
			threshold, err = eval.Percentile(ns, opt.Percentile)
			r.Figures["normal_mean_score"] = mean(ns)
		}
		r.Values["threshold_from"] = fmt.Sprintf("percentile %g of %d normal samples (%s)", opt.Percentile, normal.N, normal.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("anomaly threshold: %w", err)
	}
	flags := eval.Flag(scores, threshold)
	nFlagged := 0
	for _, f := range flags {
		if f {
			nFlagged++
		}
	}
	r.Values["score"] = opt.Score
	r.Figures["threshold"] = threshold
	r.Figures["n"] = float64(scored.N)
	r.Figures["n_flagged"] = float64(nFlagged)
	r.Figures["flagged_frac"] = float64(nFlagged) / float64(scored.N)
	r.Figures["mean_score"] = mean(scores)
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	if err := writeScores(join(out, "scores.csv"), scored.Labels, recon, elbo, flags); err != nil {
		return nil, err
	}
	r.file("scores.csv")
	if opt.NormalClass < 0 || scored.Labels == nil {
		if opt.NormalClass >= 0 {
			r.note("%s has no labels: AUROC and roc.png left out", scored.Name)
		}
		return r, nil
	}
	positive := make([]bool, scored.N)
	for i, l := range scored.Labels {
		positive[i] = l != opt.NormalClass
	}
	auroc, err := eval.AUROC(scores, positive)
	if err != nil {
		return nil, fmt.Errorf("AUROC with normal class %d on %s: %w", opt.NormalClass, scored.Name, err)
	}
	auprc, err := eval.AUPRC(scores, positive)
	if err != nil {
		return nil, fmt.Errorf("AUPRC: %w", err)
	}
	p, rec, err := eval.PrecisionRecall(flags, positive)
	if err != nil {
		return nil, err
	}
	r.Figures["auroc"], r.Figures["auprc"] = auroc, auprc
	r.Figures["precision"], r.Figures["recall"] = p, rec
	r.Figures["normal_class"] = float64(opt.NormalClass)
	fpr, tpr, err := eval.ROCCurve(scores, positive)
	if err != nil {
		return nil, err
	}
	if err := eval.SaveLinePlot(join(out, "roc.png"),
		fmt.Sprintf("ROC: normal = %s, score = %s", className(scored, opt.NormalClass), opt.Score),
		"false positive rate", "true positive rate",
		eval.Series{Name: fmt.Sprintf("%s (AUROC %.3f)", m.Spec().Kind, auroc), X: fpr, Y: tpr},
		eval.Series{Name: "chance", X: []float64{0, 1}, Y: []float64{0, 1}}); err != nil {
		return nil, err
	}
	r.image("roc.png")
	return r, nil
}

func className(d *dataset.Dataset, label int) string {
	if label >= 0 && label < len(d.Classes) {
		return fmt.Sprintf("%d (%s)", label, d.Classes[label])
	}
	return strconv.Itoa(label)
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// writeScores writes one row per sample: index, label (when known), the
// reconstruction error, the negative ELBO (variational kinds) and the flag.
func writeScores(path string, labels []int, recon, elbo []float64, flags []bool) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing scores: %w", err)
	}
	w := bufio.NewWriter(f)
	head := "index"
	if labels != nil {
		head += ",label"
	}
	head += ",recon_error"
	if elbo != nil {
		head += ",neg_elbo"
	}
	fmt.Fprintln(w, head+",anomaly")
	var line []byte
	for i := range recon {
		line = strconv.AppendInt(line[:0], int64(i), 10)
		if labels != nil {
			line = strconv.AppendInt(append(line, ','), int64(labels[i]), 10)
		}
		line = strconv.AppendFloat(append(line, ','), recon[i], 'g', 8, 64)
		if elbo != nil {
			line = strconv.AppendFloat(append(line, ','), elbo[i], 'g', 8, 64)
		}
		line = append(line, ',')
		if flags[i] {
			line = append(line, '1')
		} else {
			line = append(line, '0')
		}
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// OneClassConfig is how OneClass trains its per-class models.
type OneClassConfig struct {
	Epochs int
	Batch  int
	LR     float64
	Seed   uint64
	// Log receives one line per class; nil is silent.
	Log io.Writer
}

// OneClass runs the one-class protocol: for every class K in trainSet, a
// fresh model of spec is trained on class K's training samples only and
// scores the whole test set by reconstruction error (anomaly = not K); so
// does a PCA with the same code size. It reports AUROC per class and the
// means, and oneclass.png.
func OneClass(ctx context.Context, spec models.Spec, trainSet, test *dataset.Dataset, cfg OneClassConfig, out string) (*Result, error) {
	if trainSet.Labels == nil || test.Labels == nil {
		return nil, fmt.Errorf("the one-class protocol needs labelled data; %s has no labels", trainSet.Name)
	}
	if cfg.Epochs < 1 {
		return nil, fmt.Errorf("-oneclass-epochs %d: must be at least 1", cfg.Epochs)
	}
	classes := slices.Compact(slices.Sorted(slices.Values(trainSet.Labels)))
	r := newResult("anomaly-oneclass")
	var aurocs, pcaAurocs, xs []float64
	for _, c := range classes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cls := trainSet.Filter(func(l int) bool { return l == c })
		positive := make([]bool, test.N)
		for i, l := range test.Labels {
			positive[i] = l != c
		}
		m, err := models.New(spec)
		if err != nil {
			return nil, err
		}
		if err := CheckShape(m, cls); err != nil {
			return nil, err
		}
		tr, val, err := cls.Split(0.1, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", className(trainSet, c), err)
		}
		if _, err := train.Fit(ctx, m, tr, val, train.Config{Epochs: cfg.Epochs, Batch: min(cfg.Batch, tr.N), LR: cfg.LR, Seed: cfg.Seed}); err != nil {
			return nil, fmt.Errorf("training on class %s: %w", className(trainSet, c), err)
		}
		scores, err := ReconScores(m, test)
		if err != nil {
			return nil, err
		}
		auroc, err := eval.AUROC(scores, positive)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", className(trainSet, c), err)
		}
		pca, err := eval.FitPCA(cls.X, cls.N, cls.Dim(), min(spec.Latent, cls.N, cls.Dim()))
		if err != nil {
			return nil, fmt.Errorf("PCA on class %s: %w", className(trainSet, c), err)
		}
		pcaScores, err := eval.SampleMSE(test.X, pca.Reconstruct(test.X, test.N), test.Dim())
		if err != nil {
			return nil, err
		}
		pcaAUROC, err := eval.AUROC(pcaScores, positive)
		if err != nil {
			return nil, err
		}
		aurocs, pcaAurocs, xs = append(aurocs, auroc), append(pcaAurocs, pcaAUROC), append(xs, float64(c))
		line := fmt.Sprintf("class %-16s %d train samples  AUROC %s %.4f  PCA-%d %.4f", className(trainSet, c), cls.N, spec.Kind, auroc, pca.K, pcaAUROC)
		r.Notes = append(r.Notes, line)
		if cfg.Log != nil {
			fmt.Fprintln(cfg.Log, line)
		}
	}
	r.Values["classes"] = classes
	r.Values["per_class_auroc"] = aurocs
	r.Values["pca_per_class_auroc"] = pcaAurocs
	r.Figures["mean_auroc"] = mean(aurocs)
	r.Figures["pca_mean_auroc"] = mean(pcaAurocs)
	r.Figures["oneclass_epochs"] = float64(cfg.Epochs)
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	if err := eval.SaveLinePlot(join(out, "oneclass.png"), "one-class AUROC per normal class", "normal class", "AUROC",
		eval.Series{Name: fmt.Sprintf("%s (mean %.3f)", spec.Kind, mean(aurocs)), X: xs, Y: aurocs},
		eval.Series{Name: fmt.Sprintf("PCA-%d (mean %.3f)", spec.Latent, mean(pcaAurocs)), X: xs, Y: pcaAurocs}); err != nil {
		return nil, err
	}
	r.image("oneclass.png")
	return r, nil
}
