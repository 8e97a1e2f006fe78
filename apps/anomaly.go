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
	"strings"

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
	// Fixed, when set, is the threshold to use as it is (one stored with
	// the model, or the user's); FixedFrom says where it comes from. It
	// replaces Percentile and Contamination, and normal data is not needed.
	Fixed     *train.Threshold
	FixedFrom string
	// NormalClass, when >= 0, is the label of normal samples; every other
	// label is an anomaly, which gives AUROC, AUPRC and roc.png.
	NormalClass int
	// AnomalyLabel, when set, is binary ground truth instead: samples with
	// this label are anomalies and every other sample must carry one
	// single other (normal) label.
	AnomalyLabel *int
	// Score is ScoreRecon (default) or ScoreELBO.
	Score string
	// TopK is how many features scores.csv names per row, those with the
	// largest squared reconstruction errors (0: none).
	TopK int
	Seed uint64
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
	case o.AnomalyLabel != nil && o.NormalClass >= 0:
		return fmt.Errorf("-anomaly-label and -normal-class both say what is normal: give one")
	case o.AnomalyLabel != nil && *o.AnomalyLabel < 0:
		return fmt.Errorf("-anomaly-label %d: labels are non-negative integers", *o.AnomalyLabel)
	case o.TopK < 0:
		return fmt.Errorf("-top-k %d: must be zero (none) or more", o.TopK)
	}
	if o.Fixed != nil {
		if err := o.Fixed.Validate(); err != nil {
			return fmt.Errorf("-threshold: %w", err)
		}
	}
	return nil
}

// Labelled reports whether the options ask for figures that need ground
// truth (AUROC, AUPRC, precision, recall).
func (o AnomalyOptions) Labelled() bool { return o.NormalClass >= 0 || o.AnomalyLabel != nil }

// GroundTruth is which samples of d are anomalies under the options'
// NormalClass or AnomalyLabel. With AnomalyLabel every label must be that
// one or a single other value; the first row with a third value is an
// error naming it.
func (o AnomalyOptions) GroundTruth(d *dataset.Dataset) ([]bool, error) {
	if d.Labels == nil {
		what := fmt.Sprintf("-normal-class %d", o.NormalClass)
		if o.AnomalyLabel != nil {
			what = fmt.Sprintf("-anomaly-label %d", *o.AnomalyLabel)
		}
		return nil, fmt.Errorf("%s needs labels, but %s has none (for a CSV: name its label column with -label-column)", what, d.Name)
	}
	positive := make([]bool, d.N)
	if o.AnomalyLabel == nil {
		if !slices.Contains(d.Labels, o.NormalClass) {
			return nil, fmt.Errorf("-normal-class %d: no sample of %s has that label", o.NormalClass, d.Name)
		}
		for i, l := range d.Labels {
			positive[i] = l != o.NormalClass
		}
		return positive, nil
	}
	a, normal := *o.AnomalyLabel, -1
	for i, l := range d.Labels {
		switch {
		case l == a:
			positive[i] = true
		case normal < 0:
			normal = l
		case l != normal:
			return nil, fmt.Errorf("-anomaly-label %d: data row %d of %s has label %d, but the labels should be %d (anomaly) or %d (normal, as in the earlier rows); use -normal-class for class ids", a, i+1, d.Name, l, a, normal)
		}
	}
	return positive, nil
}

// ReconScores is each sample's reconstruction MSE under m, reconstructed
// a chunk at a time so that memory does not grow with d.N.
func ReconScores(m models.Model, d *dataset.Dataset) ([]float64, error) {
	scores := make([]float64, 0, d.N)
	err := models.ReconstructEach(m, d.X, d.N, func(_ int, x, recon []float32) error {
		s, err := eval.SampleMSE(x, recon, d.Dim())
		scores = append(scores, s...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reconstructing %s: %w", d.Name, err)
	}
	return scores, nil
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

// Anomaly scores every sample of scored and flags those above a
// threshold: opt.Fixed (stored with the model or given), the share
// opt.Contamination of scored, or opt.Percentile of normal's scores. It
// writes scores.csv into out (with the TopK features whose reconstruction
// errors contribute most to each row's score) and, when opt says what
// ground truth is, AUROC, AUPRC and roc.png. normal may be nil when it is
// not needed.
func Anomaly(m models.Model, scored, normal *dataset.Dataset, opt AnomalyOptions, out string) (*Result, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	if err := CheckShape(m, scored); err != nil {
		return nil, err
	}
	needNormal := opt.Fixed == nil && opt.Contamination == 0
	if needNormal {
		if normal == nil || normal.N == 0 {
			return nil, fmt.Errorf("no normal samples to fit the threshold on; give -normal, -normal-class, -contamination or -threshold, or use a checkpoint that stores a threshold")
		}
		if err := CheckShape(m, normal); err != nil {
			return nil, err
		}
	}
	if opt.Score == "" {
		opt.Score = ScoreRecon
	}
	var positive []bool
	if opt.Labelled() {
		var err error
		if positive, err = opt.GroundTruth(scored); err != nil {
			return nil, err
		}
	}
	r := newResult("anomaly")
	recon, err := models.Reconstruct(m, scored.X, scored.N)
	if err != nil {
		return nil, fmt.Errorf("reconstructing %s: %w", scored.Name, err)
	}
	mse, err := eval.SampleMSE(scored.X, recon, scored.Dim())
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
	scores := mse
	if opt.Score == ScoreELBO {
		scores = elbo
	}
	var threshold float64
	switch {
	case opt.Fixed != nil:
		if opt.Fixed.Score != opt.Score {
			return nil, fmt.Errorf("the threshold applies to %s scores, not %s: use -score %s", opt.Fixed.Score, opt.Score, opt.Fixed.Score)
		}
		threshold = opt.Fixed.Value
		r.Values["threshold_from"] = opt.FixedFrom
	case opt.Contamination > 0:
		threshold, err = eval.ThresholdFromContamination(scores, opt.Contamination)
		r.Values["threshold_from"] = fmt.Sprintf("contamination %g of the %d scored rows of %s", opt.Contamination, scored.N, scored.Name)
	default:
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
	r.Values["data"] = scored.Name
	r.Figures["threshold"] = threshold
	r.Figures["n"] = float64(scored.N)
	r.Figures["n_flagged"] = float64(nFlagged)
	r.Figures["flagged_frac"] = float64(nFlagged) / float64(scored.N)
	r.Figures["mean_score"] = mean(scores)
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	top := topFeatures(scored.X, recon, scored.Dim(), opt.TopK)
	if err := writeScores(join(out, "scores.csv"), scored.Labels, mse, elbo, flags, top, scored.Columns); err != nil {
		return nil, err
	}
	r.file("scores.csv")
	if !IsImage(scored) {
		// Which columns the error comes from: the per-feature summary of a
		// table (a picture's pixels are too many to list).
		r.Values["feature_mse"] = featureErrors(scored.X, recon, scored.Dim())
		r.Values["feature_errors"] = featureSummary(scored.X, recon, scored.Dim(), flags, scored.Columns)
	}
	hist, err := scoreHistogram(scores, threshold, positive)
	if err != nil {
		return nil, err
	}
	r.Values["score_histogram"] = hist
	groups := []eval.HistogramGroup{{Name: "scored rows", Counts: hist.Counts}}
	if positive != nil {
		groups = []eval.HistogramGroup{{Name: "normal", Counts: hist.Normal}, {Name: "anomalies", Counts: hist.Anomalous}}
	}
	if err := eval.SaveHistogram(join(out, "scores.png"), fmt.Sprintf("scores of the %d rows of %s", scored.N, scored.Name),
		scoreUnit(opt.Score), hist.Edges, threshold, fmt.Sprintf("threshold %.4g", threshold), groups...); err != nil {
		return nil, err
	}
	r.image("scores.png")
	if positive == nil {
		return r, nil
	}
	auroc, err := eval.AUROC(scores, positive)
	if err != nil {
		return nil, fmt.Errorf("AUROC on %s: %w", scored.Name, err)
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
	truth := fmt.Sprintf("normal = %s", className(scored, opt.NormalClass))
	if opt.AnomalyLabel != nil {
		r.Figures["anomaly_label"] = float64(*opt.AnomalyLabel)
		truth = fmt.Sprintf("anomaly = label %d", *opt.AnomalyLabel)
	} else {
		r.Figures["normal_class"] = float64(opt.NormalClass)
	}
	fpr, tpr, err := eval.ROCCurve(scores, positive)
	if err != nil {
		return nil, err
	}
	if err := eval.SaveLinePlot(join(out, "roc.png"),
		fmt.Sprintf("ROC: %s, score = %s", truth, opt.Score),
		"false positive rate", "true positive rate",
		eval.Series{Name: fmt.Sprintf("%s (AUROC %.3f)", m.Spec().Kind, auroc), X: fpr, Y: tpr},
		eval.Series{Name: "chance", X: []float64{0, 1}, Y: []float64{0, 1}}); err != nil {
		return nil, err
	}
	r.image("roc.png")
	prRecall, prPrecision, err := eval.PRCurve(scores, positive)
	if err != nil {
		return nil, err
	}
	base := float64(countTrue(positive)) / float64(len(positive))
	if err := eval.SaveLinePlotWith(join(out, "pr.png"), eval.PlotOptions{Title: fmt.Sprintf("precision-recall: %s, score = %s", truth, opt.Score),
		XLabel: "recall", YLabel: "precision"},
		eval.Series{Name: fmt.Sprintf("%s (AUPRC %.3f)", m.Spec().Kind, auprc), X: prRecall, Y: prPrecision},
		eval.Series{Name: fmt.Sprintf("chance (%.3f anomalies)", base), X: []float64{0, 1}, Y: []float64{base, base}}); err != nil {
		return nil, err
	}
	r.image("pr.png")
	return r, nil
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// ScoreHistogram is the distribution of the scored rows' scores: Counts
// per bin between Edges (len(Edges) = len(Counts)+1, spanning the scores
// and the threshold), and with ground truth the counts of normal rows and
// of anomalies apart.
type ScoreHistogram struct {
	Edges     []float64 `json:"edges"`
	Counts    []int     `json:"counts"`
	Normal    []int     `json:"normal,omitempty"`
	Anomalous []int     `json:"anomalous,omitempty"`
}

// histogramBins is how many bins the score histogram has.
const histogramBins = 30

func scoreHistogram(scores []float64, threshold float64, positive []bool) (*ScoreHistogram, error) {
	lo, hi := slices.Min(scores), slices.Max(scores)
	if !math.IsNaN(threshold) && !math.IsInf(threshold, 0) {
		lo, hi = min(lo, threshold), max(hi, threshold)
	}
	h := &ScoreHistogram{}
	var err error
	if h.Edges, h.Counts, err = eval.Histogram(scores, histogramBins, lo, hi); err != nil {
		return nil, fmt.Errorf("score histogram: %w", err)
	}
	if positive == nil {
		return h, nil
	}
	var normal, anomalous []float64
	for i, p := range positive {
		if p {
			anomalous = append(anomalous, scores[i])
		} else {
			normal = append(normal, scores[i])
		}
	}
	if _, h.Normal, err = eval.Histogram(normal, histogramBins, lo, hi); err != nil {
		return nil, err
	}
	if _, h.Anomalous, err = eval.Histogram(anomalous, histogramBins, lo, hi); err != nil {
		return nil, err
	}
	return h, nil
}

// FeatureError is one feature's part in the reconstruction error of the
// scored rows: its mean squared error, its share of the total squared
// error and, when rows were flagged, its mean squared error over them.
type FeatureError struct {
	Feature    string   `json:"feature"`
	MSE        float64  `json:"mse"`
	Share      float64  `json:"share"`
	FlaggedMSE *float64 `json:"flagged_mse,omitempty"`
}

// featureSummary is every feature's FeatureError, largest share first
// (ties: the lower index first), named by columns when given.
func featureSummary(x, recon []float32, dim int, flags []bool, columns []string) []FeatureError {
	all := featureErrors(x, recon, dim)
	var fx, fr []float32
	for i, f := range flags {
		if f {
			fx, fr = append(fx, x[i*dim:(i+1)*dim]...), append(fr, recon[i*dim:(i+1)*dim]...)
		}
	}
	var flagged []float64
	if len(fx) > 0 {
		flagged = featureErrors(fx, fr, dim)
	}
	var total float64
	for _, e := range all {
		total += e
	}
	out := make([]FeatureError, dim)
	for j, e := range all {
		out[j] = FeatureError{Feature: "f" + strconv.Itoa(j), MSE: e}
		if j < len(columns) {
			out[j].Feature = columns[j]
		}
		if total > 0 {
			out[j].Share = e / total
		}
		if flagged != nil {
			out[j].FlaggedMSE = &flagged[j]
		}
	}
	slices.SortStableFunc(out, func(a, b FeatureError) int {
		switch {
		case a.MSE > b.MSE:
			return -1
		case a.MSE < b.MSE:
			return 1
		}
		return 0
	})
	return out
}

// featureContribution is one feature's share of a row's squared
// reconstruction error.
type featureContribution struct {
	Feature int
	Share   float64
}

// topFeatures lists, per row, the k features with the largest squared
// reconstruction error and their share of the row's total (ties: the
// lower index first).
func topFeatures(x, recon []float32, dim, k int) [][]featureContribution {
	k = min(k, dim)
	if k <= 0 {
		return nil
	}
	n := len(x) / dim
	out := make([][]featureContribution, n)
	sq := make([]float64, dim)
	idx := make([]int, dim)
	for i := range n {
		var total float64
		for j := range dim {
			d := float64(x[i*dim+j]) - float64(recon[i*dim+j])
			sq[j] = d * d
			total += sq[j]
			idx[j] = j
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case sq[a] > sq[b]:
				return -1
			case sq[a] < sq[b]:
				return 1
			}
			return 0
		})
		row := make([]featureContribution, k)
		for t := range k {
			share := 0.0
			if total > 0 {
				share = sq[idx[t]] / total
			}
			row[t] = featureContribution{Feature: idx[t], Share: share}
		}
		out[i] = row
	}
	return out
}

// featureErrors is each feature's mean squared reconstruction error over
// the rows.
func featureErrors(x, recon []float32, dim int) []float64 {
	out := make([]float64, dim)
	n := len(x) / dim
	for i := range n {
		for j := range dim {
			d := float64(x[i*dim+j]) - float64(recon[i*dim+j])
			out[j] += d * d / float64(n)
		}
	}
	return out
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
// reconstruction error, the negative ELBO (variational kinds), the flag
// and, with top, the features that contribute most to the error, each with
// its share of it (named by columns when the data has a header).
func writeScores(path string, labels []int, recon, elbo []float64, flags []bool, top [][]featureContribution, columns []string) error {
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
	head += ",anomaly"
	if len(top) > 0 {
		for t := range top[0] {
			head += fmt.Sprintf(",top%d_feature,top%d_share", t+1, t+1)
		}
	}
	fmt.Fprintln(w, head)
	name := func(j int) string {
		if j < len(columns) {
			return csvField(columns[j])
		}
		return "f" + strconv.Itoa(j)
	}
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
		if top != nil {
			for _, c := range top[i] {
				line = append(append(line, ','), name(c.Feature)...)
				line = strconv.AppendFloat(append(line, ','), c.Share, 'f', 4, 64)
			}
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

// csvField quotes a header name for a CSV cell when it needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// One-class score parts: OneClassConfig.Score is one of them or several
// joined by "+".
const (
	OneClassRecon  = "recon"  // reconstruction MSE
	OneClassSSIM   = "ssim"   // 1 − SSIM of the reconstruction (pictures)
	OneClassELBO   = "elbo"   // negative ELBO at the posterior mean (variational kinds)
	OneClassLatent = "latent" // −log density of the code under a mixture fitted on the class's training codes
)

// OneClassConfig is how OneClass trains its per-class models. Epochs or
// Batch 0 sizes them from each class's training rows as the train command
// does for a table (train.TableBatch, train.TableEpochs).
type OneClassConfig struct {
	Epochs int
	Batch  int
	LR     float64
	Seed   uint64
	// Score is what ranks the test images (mean_auroc): one part
	// (OneClassRecon, the default, OneClassSSIM, OneClassELBO,
	// OneClassLatent) or a sum of parts such as "recon+latent", each part
	// standardised by the mean and standard deviation of its scores on the
	// class's held-out validation images, so that no part dominates by its
	// units. The mean AUROC of every combination of the parts that apply
	// is reported beside it (mean_auroc_by_score).
	Score string
	// Log receives one line per class; nil is silent.
	Log io.Writer
}

// OneClass runs the one-class protocol: for every class K in trainSet, a
// fresh model of spec is trained on class K's training samples only and
// scores the whole test set by cfg.Score (anomaly = not K); a PCA with the
// same code size scores it by reconstruction error. It reports AUROC per
// class and the means, and oneclass.png.
func OneClass(ctx context.Context, spec models.Spec, trainSet, test *dataset.Dataset, cfg OneClassConfig, out string) (*Result, error) {
	if trainSet.Labels == nil || test.Labels == nil {
		return nil, fmt.Errorf("the one-class protocol needs labelled data; %s has no labels", trainSet.Name)
	}
	if cfg.Epochs < 0 || cfg.Batch < 0 {
		return nil, fmt.Errorf("-oneclass-epochs %d, -batch %d: must be at least 1 (0: sized from each class's rows)", cfg.Epochs, cfg.Batch)
	}
	if cfg.Score == "" {
		cfg.Score = OneClassRecon
	}
	kind, err := models.LookupKind(spec.Kind)
	if err != nil {
		return nil, err
	}
	avail := oneClassParts(kind, test)
	chosen, err := ParseOneClassScore(cfg.Score)
	if err != nil {
		return nil, err
	}
	for _, p := range chosen {
		if !slices.Contains(avail, p) {
			return nil, fmt.Errorf("-oneclass-score %s: part %q does not apply to a %s model on %s (parts that do: %s)", cfg.Score, p, spec.Kind, test.Name, strings.Join(avail, ", "))
		}
	}
	cfg.Score = strings.Join(chosen, "+")
	// Every combination of the parts that apply is measured beside the
	// chosen score: the models are the costly part, the scores are cheap.
	combos := [][]string{chosen}
	for set := 1; set < 1<<len(avail); set++ {
		var combo []string
		for i, p := range avail {
			if set&(1<<i) != 0 {
				combo = append(combo, p)
			}
		}
		combos = append(combos, combo)
	}
	// The seed starts the fresh models too, not only their splits and
	// batches, so that runs with different seeds differ in every draw.
	spec.InitSeed = cfg.Seed
	classes := slices.Compact(slices.Sorted(slices.Values(trainSet.Labels)))
	r := newResult("anomaly-oneclass")
	var aurocs, pcaAurocs, xs []float64
	comboAUROCs := map[string][]float64{}
	var epochs []int
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
		batch, ep := cfg.Batch, cfg.Epochs
		if batch == 0 {
			batch = train.TableBatch(tr.N)
		}
		if ep == 0 {
			ep = train.TableEpochs(tr.N, min(batch, tr.N))
		}
		epochs = append(epochs, ep)
		if _, err := train.Fit(ctx, m, tr, val, train.Config{Epochs: ep, Batch: min(batch, tr.N), LR: cfg.LR, Seed: cfg.Seed, InitFromData: true}); err != nil {
			return nil, fmt.Errorf("training on class %s: %w", className(trainSet, c), err)
		}
		parts, err := oneClassScores(m, tr, val, test, avail, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", className(trainSet, c), err)
		}
		var auroc float64
		for i, combo := range combos {
			a, err := eval.AUROC(combineScores(parts, combo), positive)
			if err != nil {
				return nil, fmt.Errorf("class %s: %w", className(trainSet, c), err)
			}
			if i == 0 {
				auroc = a
				continue
			}
			name := strings.Join(combo, "+")
			comboAUROCs[name] = append(comboAUROCs[name], a)
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
		line := fmt.Sprintf("class %-16s %d train samples, %d epochs  AUROC %s (%s) %.4f  PCA-%d %.4f", className(trainSet, c), cls.N, ep, spec.Kind, cfg.Score, auroc, pca.K, pcaAUROC)
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
	r.Values["oneclass_epochs_per_class"] = epochs
	r.Figures["oneclass_epochs"] = float64(slices.Max(epochs))
	r.Values["oneclass_score"] = cfg.Score
	byScore := map[string]float64{cfg.Score: mean(aurocs)}
	for name, a := range comboAUROCs {
		byScore[name] = mean(a)
	}
	r.Values["mean_auroc_by_score"] = byScore
	r.Values["per_class_auroc_by_score"] = comboAUROCs
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	if err := eval.SaveLinePlot(join(out, "oneclass.png"), "one-class AUROC per normal class", "normal class", "AUROC",
		eval.Series{Name: fmt.Sprintf("%s, %s (mean %.3f)", spec.Kind, cfg.Score, mean(aurocs)), X: xs, Y: aurocs},
		eval.Series{Name: fmt.Sprintf("PCA-%d (mean %.3f)", spec.Latent, mean(pcaAurocs)), X: xs, Y: pcaAurocs}); err != nil {
		return nil, err
	}
	r.image("oneclass.png")
	return r, nil
}

// ParseOneClassScore splits a one-class score ("recon", "ssim+latent") into
// its parts, checking that each is known and given once.
func ParseOneClassScore(score string) ([]string, error) {
	known := []string{OneClassRecon, OneClassSSIM, OneClassELBO, OneClassLatent}
	var parts []string
	for p := range strings.SplitSeq(score, "+") {
		p = strings.TrimSpace(p)
		switch {
		case !slices.Contains(known, p):
			return nil, fmt.Errorf("-oneclass-score %q: unknown part %q (parts: %s, joined by +)", score, p, strings.Join(known, ", "))
		case slices.Contains(parts, p):
			return nil, fmt.Errorf("-oneclass-score %q: part %q given twice", score, p)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// oneClassParts lists the score parts that apply to a model of kind on d.
func oneClassParts(kind models.Kind, d *dataset.Dataset) []string {
	parts := []string{OneClassRecon}
	if IsImage(d) {
		parts = append(parts, OneClassSSIM)
	}
	if kind.Variational {
		parts = append(parts, OneClassELBO)
	}
	return append(parts, OneClassLatent)
}

// partScores is one score part on the validation images (for its scale)
// and on the test images.
type partScores struct{ val, test []float64 }

// oneClassScores computes each part of parts on val and test under m,
// trained on tr (the latent part's mixture is fitted on tr's codes).
func oneClassScores(m models.Model, tr, val, test *dataset.Dataset, parts []string, seed uint64) (map[string]partScores, error) {
	var mix *eval.GMM
	if slices.Contains(parts, OneClassLatent) {
		var err error
		if mix, err = LatentSampler(m, tr, seed); err != nil {
			return nil, err
		}
	}
	out := map[string]partScores{}
	for i, d := range []*dataset.Dataset{val, test} {
		got, err := scoreParts(m, d, parts, mix)
		if err != nil {
			return nil, err
		}
		for p, s := range got {
			ps := out[p]
			if i == 0 {
				ps.val = s
			} else {
				ps.test = s
			}
			out[p] = ps
		}
	}
	return out, nil
}

// scoreParts is every part of parts for each sample of d; higher is more
// anomalous.
func scoreParts(m models.Model, d *dataset.Dataset, parts []string, mix *eval.GMM) (map[string][]float64, error) {
	out := map[string][]float64{}
	dim, plane := d.Dim(), d.H*d.W
	wantSSIM := slices.Contains(parts, OneClassSSIM)
	err := models.ReconstructEach(m, d.X, d.N, func(_ int, x, recon []float32) error {
		s, err := eval.SampleMSE(x, recon, dim)
		out[OneClassRecon] = append(out[OneClassRecon], s...)
		if wantSSIM {
			for off := 0; off < len(x); off += dim {
				// 1 − SSIM, the mean over the image's channels.
				var sum float64
				for c := 0; c < dim; c += plane {
					sum += eval.SSIM(x[off+c:off+c+plane], recon[off+c:off+c+plane], d.H, d.W)
				}
				out[OneClassSSIM] = append(out[OneClassSSIM], 1-sum/float64(d.C))
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reconstructing %s: %w", d.Name, err)
	}
	if slices.Contains(parts, OneClassELBO) {
		if out[OneClassELBO], err = NegELBOScores(m, d); err != nil {
			return nil, err
		}
	}
	if mix != nil {
		codes, err := models.Encode(m, d.X, d.N)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", d.Name, err)
		}
		s := make([]float64, d.N)
		for i := range s {
			ll, err := mix.MeanLogLikelihood(codes[i*mix.D:(i+1)*mix.D], 1)
			if err != nil {
				return nil, err
			}
			s[i] = -ll
		}
		out[OneClassLatent] = s
	}
	return out, nil
}

// combineScores sums the test scores of parts, each standardised by the
// mean and standard deviation of its validation scores.
func combineScores(scores map[string]partScores, parts []string) []float64 {
	if len(parts) == 1 {
		return scores[parts[0]].test
	}
	out := make([]float64, len(scores[parts[0]].test))
	for _, p := range parts {
		ps := scores[p]
		mu, sd := meanStd(ps.val)
		if !(sd > 0) {
			sd = 1
		}
		for i, x := range ps.test {
			out[i] += (x - mu) / sd
		}
	}
	return out
}

func meanStd(xs []float64) (mu, sd float64) {
	mu = mean(xs)
	for _, x := range xs {
		sd += (x - mu) * (x - mu)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mu, sd
}
