// Package evalcli is the eval command (hourglass eval, cmd/eval): it runs a
// trained autoencoder on data for what autoencoders are used for — reconstruction, denoising, anomaly detection, features, a PCA
// comparison, generation — and writes figures, pictures and a report.
//
//	hourglass eval -checkpoint runs/deep-x/best.safetensors -data sample -task all
//	hourglass eval -checkpoint ckpt.safetensors -data fashion-mnist -task anomaly -normal-class 0 -json
package evalcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/hourglass-ml/hourglass/apps"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/internal/cli"
	"github.com/hourglass-ml/hourglass/internal/cli/traincli"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// Tasks lists the -task values; "all" runs every one that applies except
// anomaly-oneclass, which trains ten models.
var tasks = []string{"recon", "denoise", "anomaly", "anomaly-oneclass", "features", "pca", "sample", "all"}

type options struct {
	checkpoint    string
	data          string
	labelColumn   string
	delim         string
	comma         rune
	trainData     string
	task          string
	out           string
	json          bool
	seed          uint64
	limit         int
	noise         string
	noiseStd      float64
	noiseFrac     float64
	normal        string
	normalClass   int
	anomalyLabel  int
	threshold     float64
	topK          int
	percentile    float64
	contamination float64
	score         string
	ocEpochs      int
	ocScore       string
	batch         int
	lr            float64
	knnK          int
	knnTrain      int
	device        string
	// settings are the flags' effective values, one "name: value" a line,
	// for the report (paths left out: they would name this machine's files).
	settings string

	given map[string]bool // flags given on the command line
	// imputer is the checkpoint's (train -impute), nil when it has none:
	// then a missing CSV value is an error.
	imputer *dataset.Imputer
}

// loadOptions are the CSV settings every source is read with; missing
// values are read (as NaN) only when the checkpoint can fill them.
func (o *options) loadOptions() dataset.LoadOptions {
	return dataset.LoadOptions{LabelColumn: o.labelColumn, Delimiter: o.comma, Missing: o.imputer != nil}
}

// impute fills d's missing values with the checkpoint's imputer, as
// training did, and says on log how many it filled.
func (o *options) impute(d *dataset.Dataset, log io.Writer) error {
	if o.imputer == nil {
		return nil
	}
	n, err := o.imputer.Apply(d)
	if err != nil {
		return fmt.Errorf("filling missing values of %s with the checkpoint's imputer: %w", d.Name, err)
	}
	if n > 0 {
		fmt.Fprintf(log, "eval: %d missing values of %s filled with their column's training %s (stored in %s)\n", n, d.Name, o.imputer.Kind, o.checkpoint)
	}
	return nil
}

// help is the -h text; its groups follow the README's task table.
var help = cli.Help{
	Usage:   "hourglass eval -checkpoint FILE [flags]",
	Summary: "Runs a trained autoencoder on data for reconstruction, denoising, anomaly\ndetection, features, a PCA comparison or generation, and writes figures,\npictures and (with -task all) report.html.",
	Groups: []cli.Group{
		{Title: "What to run", Flags: []string{"checkpoint", "data", "train-data", "label-column", "delimiter", "task", "limit", "seed", "device"}},
		{Title: "Output", Flags: []string{"out", "json"}},
		{Title: "Denoising", Flags: []string{"noise", "noise-std", "noise-frac"}},
		{Title: "Anomaly detection", Flags: []string{"threshold", "normal", "normal-class", "anomaly-label", "percentile", "contamination", "score", "top-k"}},
		{Title: "One-class (anomaly-oneclass)", Flags: []string{"oneclass-epochs", "oneclass-score", "batch", "lr"}},
		{Title: "Features", Flags: []string{"knn-k", "knn-train"}},
	},
	Examples: []string{
		"hourglass eval -checkpoint runs/deep-x/best.safetensors -task all",
		"hourglass eval -checkpoint runs/deep-x/best.safetensors -data fashion-mnist -task anomaly -normal-class 0 -json",
		"hourglass eval -checkpoint runs/vae-x/best.safetensors -task sample",
		"hourglass eval -checkpoint runs/deep-x/best.safetensors -data new.csv -task anomaly   # flags with the stored threshold",
		"hourglass eval -checkpoint runs/deep-x/best.safetensors -data labelled.csv -task anomaly -anomaly-label 1",
	},
}

func parseFlags(prog string, args []string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.StringVar(&o.checkpoint, "checkpoint", "", "checkpoint file (.safetensors) written by cmd/train (required)")
	fs.StringVar(&o.data, "data", "sample", "data to evaluate on: sample (embedded), fashion-mnist, mnist (their test split), a directory of IDX files, a .csv file (all of its rows), or shards (a directory or glob of .csv/.npy/IDX files, or one .npy: scored streaming, -task anomaly)")
	fs.StringVar(&o.trainData, "train-data", "", "training source to fit PCA, kNN and thresholds on (default: the one the checkpoint's run configuration names, or the training split of -data)")
	fs.StringVar(&o.labelColumn, "label-column", "", "CSV column holding integer labels, left out of the features (default: \"label\" when the header has it; none: no label column)")
	fs.StringVar(&o.delim, "delimiter", "auto", "CSV field separator: auto (detects , ; or tab), tab, or one character")
	fs.StringVar(&o.task, "task", "all", "task: "+strings.Join(tasks, ", "))
	fs.StringVar(&o.out, "out", "", "output directory (default <checkpoint dir>/eval-<task>)")
	fs.BoolVar(&o.json, "json", false, "print every figure as one JSON object on stdout")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed (noise, samples, subsets)")
	fs.StringVar(&o.device, "device", device.DefaultDevice().String(), "where to run: cpu or cuda (cuda needs a binary built with -tags cuda)")
	fs.IntVar(&o.limit, "limit", 0, "use only the first N test samples (0: all)")
	fs.StringVar(&o.noise, "noise", "", "denoise corruption: "+strings.Join(models.NoiseKinds(), ", ")+" (default: the checkpoint's training noise, else gaussian)")
	fs.Float64Var(&o.noiseStd, "noise-std", 0, "standard deviation of gaussian noise (default: the checkpoint's, else 0.3)")
	fs.Float64Var(&o.noiseFrac, "noise-frac", 0, "fraction of pixels hit by mask/saltpepper noise (default: the checkpoint's, else 0.25)")
	fs.Float64Var(&o.threshold, "threshold", 0, "anomaly threshold on the score (default: the one stored in the checkpoint)")
	fs.StringVar(&o.normal, "normal", "", "data source known to be normal, to fit the anomaly threshold on (replaces the stored threshold)")
	fs.IntVar(&o.normalClass, "normal-class", -1, "label of the normal class; other labels are anomalies (gives AUROC, AUPRC, roc.png)")
	fs.IntVar(&o.anomalyLabel, "anomaly-label", -1, "binary ground truth: rows with this label are anomalies, all others must share one normal label (gives AUROC, AUPRC, roc.png)")
	fs.IntVar(&o.topK, "top-k", 3, "scores.csv names the k features whose reconstruction errors contribute most to each row's score (0: none)")
	fs.Float64Var(&o.percentile, "percentile", 99, "anomaly threshold: this percentile of the normal data's scores")
	fs.Float64Var(&o.contamination, "contamination", 0, "anomaly threshold from the expected share of anomalies in the scored data, in (0, 0.5] (replaces -percentile)")
	fs.StringVar(&o.score, "score", "", "anomaly score: recon (reconstruction error) or elbo (negative ELBO, VAE kinds) (default: the stored threshold's, else recon)")
	fs.IntVar(&o.ocEpochs, "oneclass-epochs", 5, "anomaly-oneclass: training epochs per class (a table: about 2000 steps, sized from each class's rows, when not given)")
	fs.StringVar(&o.ocScore, "oneclass-score", apps.OneClassRecon, "anomaly-oneclass: score ranking the test images: recon, ssim, elbo (vae kinds), latent (code density under a mixture fitted on the class's codes), or parts joined by + (each standardised on held-out images of the class)")
	fs.IntVar(&o.batch, "batch", 128, "anomaly-oneclass: batch size (a table: an eighth of each class's rows, 8 to 64, when not given)")
	fs.Float64Var(&o.lr, "lr", 1e-3, "anomaly-oneclass: learning rate")
	fs.IntVar(&o.knnK, "knn-k", 5, "features: k of the k-nearest-neighbour classifier")
	fs.IntVar(&o.knnTrain, "knn-train", 0, "features: search at most N training samples in kNN (a seeded subset; 0: all)")
	if err := cli.Parse(fs, args, help, prog, stdout); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: flags only (see -h)", fs.Arg(0))
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "checkpoint" && f.Name != "out" && f.Name != "normal" {
			o.settings += f.Name + ": " + f.Value.String() + "\n"
		}
	})
	o.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.given[f.Name] = true })
	comma, err := dataset.ParseDelimiter(o.delim)
	if err != nil {
		return nil, err
	}
	o.comma = comma
	if o.given["threshold"] && (math.IsNaN(o.threshold) || math.IsInf(o.threshold, 0)) {
		return nil, fmt.Errorf("-threshold %g: must be a finite number", o.threshold)
	}
	if o.given["threshold"] && (o.given["normal"] || o.given["contamination"]) {
		return nil, errors.New("-threshold sets the threshold; -normal and -contamination fit one: give only one of them")
	}
	if o.checkpoint == "" {
		return nil, errors.New("-checkpoint is required: the .safetensors file cmd/train wrote (e.g. runs/deep-…/best.safetensors)")
	}
	if !slices.Contains(tasks, o.task) {
		return nil, fmt.Errorf("-task %q: valid tasks are %s", o.task, strings.Join(tasks, ", "))
	}
	if err := o.anomalyOptions().Check(); err != nil {
		return nil, err
	}
	if _, err := apps.ParseOneClassScore(o.ocScore); err != nil {
		return nil, err
	}
	switch {
	case o.limit < 0:
		return nil, fmt.Errorf("-limit %d: must be zero (all) or positive", o.limit)
	case o.ocEpochs < 1:
		return nil, fmt.Errorf("-oneclass-epochs %d: must be at least 1", o.ocEpochs)
	case o.batch < 1:
		return nil, fmt.Errorf("-batch %d: must be positive", o.batch)
	case !(o.lr > 0):
		return nil, fmt.Errorf("-lr %g: must be positive", o.lr)
	case o.knnK < 1:
		return nil, fmt.Errorf("-knn-k %d: must be positive", o.knnK)
	case o.knnTrain < 0:
		return nil, fmt.Errorf("-knn-train %d: must be zero (all) or positive", o.knnTrain)
	case o.noiseStd < 0 || o.noiseFrac < 0 || o.noiseFrac > 1:
		return nil, fmt.Errorf("-noise-std %g / -noise-frac %g: must be positive (and the fraction at most 1)", o.noiseStd, o.noiseFrac)
	}
	dev, err := device.ParseDevice(o.device)
	if err != nil {
		return nil, fmt.Errorf("-device: %w", err)
	}
	if o.anomalyLabel < -1 {
		return nil, fmt.Errorf("-anomaly-label %d: labels are non-negative integers", o.anomalyLabel)
	}
	if dev != device.DefaultDevice() {
		// Gorgonia's cuda build places every op on the GPU by itself, so a
		// build runs on one device only.
		return nil, fmt.Errorf("-device %s: this binary runs on %s only", dev, device.DefaultDevice())
	}
	if o.out == "" {
		o.out = filepath.Join(filepath.Dir(o.checkpoint), "eval-"+o.task)
	}
	return o, nil
}

func (o *options) anomalyOptions() apps.AnomalyOptions {
	a := apps.AnomalyOptions{Percentile: o.percentile, Contamination: o.contamination,
		NormalClass: o.normalClass, Score: o.score, TopK: o.topK, Seed: o.seed}
	if o.anomalyLabel >= 0 {
		a.AnomalyLabel = &o.anomalyLabel
	}
	return a
}

// noiseSpec is the corruption for denoise: flags first, then what the model
// was trained against, then gaussian σ=0.3 / 25% of pixels.
func (o *options) noiseSpec(spec models.Spec) models.NoiseSpec {
	n := models.NoiseSpec{Kind: "gaussian", Std: 0.3, Frac: 0.25}
	if spec.Noise != nil {
		n.Kind = spec.Noise.Kind
		if spec.Noise.Std > 0 {
			n.Std = spec.Noise.Std
		}
		if spec.Noise.Frac > 0 {
			n.Frac = spec.Noise.Frac
		}
	}
	if o.noise != "" {
		n.Kind = o.noise
	}
	if o.noiseStd > 0 {
		n.Std = o.noiseStd
	}
	if o.noiseFrac > 0 {
		n.Frac = o.noiseFrac
	}
	return n
}

// Run runs the eval command with args (without the program name) and
// returns its exit code; prog prefixes every message ("hourglass eval").
func Run(prog string, args []string, stdout, stderr io.Writer) int {
	if hint := device.MisplacedTagHint(args); hint != "" {
		fmt.Fprintf(stderr, "%s: %s\n", prog, hint)
		return cli.ExitUsage
	}
	o, err := parseFlags(prog, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal stops eval between tasks; a second kills it at once.
		<-ctx.Done()
		stop()
	}()
	s, err := evaluate(ctx, o, stderr)
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "%s: interrupted (%v); the files of finished tasks are in %s\n", prog, context.Cause(ctx), o.out)
		return cli.ExitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitFail
	}
	if o.json {
		if err := json.NewEncoder(stdout).Encode(s.json()); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return cli.ExitFail
		}
		return 0
	}
	s.print(stdout)
	return 0
}

// summary is everything one run computed.
type summary struct {
	o       *options
	kind    string
	results []*apps.Result
	report  string
}

func (s *summary) json() map[string]any {
	out := map[string]any{"task": s.o.task, "checkpoint": s.o.checkpoint, "kind": s.kind, "data": s.o.data, "out": s.o.out}
	var files []string
	for _, r := range s.results {
		for k, v := range r.JSON() {
			out[k] = v
		}
		for _, f := range r.Files {
			files = append(files, filepath.Join(s.o.out, f))
		}
	}
	if s.report != "" {
		out["report"] = s.report
		files = append(files, s.report)
	}
	out["files"] = files
	return out
}

func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "%s checkpoint %s on %s\n", s.kind, s.o.checkpoint, s.o.data)
	for _, r := range s.results {
		fmt.Fprintf(w, "\n%s", r.Task)
		if d, ok := r.Values["data"].(string); ok {
			fmt.Fprintf(w, " on %s, n=%d", d, int(r.Figures["n"]))
		}
		if d, ok := r.Values["fitted_on"].(string); ok {
			fmt.Fprintf(w, " (fitted on %s, n=%d)", d, int(r.Figures["n_train"]))
		}
		fmt.Fprintln(w)
		if from, ok := r.Values["threshold_from"].(string); ok {
			fmt.Fprintf(w, "  threshold from %s\n", from)
		}
		for _, k := range r.SortedFigures() {
			fmt.Fprintf(w, "  %-24s %.6g\n", k, r.Figures[k])
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
		for _, f := range r.Files {
			fmt.Fprintf(w, "  wrote %s\n", filepath.Join(s.o.out, f))
		}
	}
	if s.report != "" {
		fmt.Fprintf(w, "\nreport %s\n", s.report)
	}
}

// data are the sets the tasks work on, scaled as in training.
type data struct {
	// scored is what every task measures: the test split of a source that
	// has one, else all of it (a CSV file).
	scored *dataset.Dataset
	// train is the training source PCA, kNN and thresholds are fitted on;
	// nil when none is at hand (why says so).
	train *dataset.Dataset
	why   string
}

func evaluate(ctx context.Context, o *options, log io.Writer) (*summary, error) {
	if dataset.IsShardSource(o.data) {
		// Shards are scored streaming by the Go API's model, which reads the
		// checkpoint itself.
		return evaluateStream(ctx, o, log)
	}
	loaded, err := train.LoadCheckpoint(o.checkpoint)
	if err != nil {
		return nil, err
	}
	m := loaded.Model
	spec := m.Spec()
	scaler, err := loaded.Scaler()
	if err != nil {
		return nil, err
	}
	if o.imputer, err = loaded.Imputer(); err != nil {
		return nil, err
	}
	splits, err := dataset.LoadWith(o.data, o.loadOptions())
	if err != nil {
		return nil, err
	}
	var ds data
	ds.scored = splits.Train
	if splits.Test != nil {
		ds.scored = splits.Test
	}
	if ls := dataset.LabelSummary(ds.scored); ls != "" {
		fmt.Fprintf(log, "eval: labels: %s of %s, left out of the features\n", ls, ds.scored.Name)
	}
	if ds.train, ds.why, err = trainingData(o, loaded, splits); err != nil {
		return nil, err
	}
	for _, d := range []*dataset.Dataset{ds.scored, ds.train} {
		if d == nil {
			continue
		}
		if err := apps.CheckShape(m, d); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", o.checkpoint, err)
		}
		if err := o.impute(d, log); err != nil {
			return nil, err
		}
		if scaler != nil {
			if err := scaler.Apply(d); err != nil {
				return nil, fmt.Errorf("scaling %s with the checkpoint's scaler: %w", d.Name, err)
			}
		}
	}
	if scaler == nil && dataset.IsCSV(o.data) {
		fmt.Fprintf(log, "eval: note: %s stores no scaler; the CSV values are used unscaled\n", o.checkpoint)
	}
	if o.limit > 0 {
		ds.scored = ds.scored.Head(o.limit)
	}
	opt := o.anomalyOptions()
	if opt.Labelled() {
		// A labelled figure on data without labels is a mistake to report,
		// not a note to skip past.
		if _, err := opt.GroundTruth(ds.scored); err != nil {
			return nil, err
		}
	}

	s := &summary{o: o, kind: spec.Kind}
	todo := []string{o.task}
	if o.task == "all" {
		todo = []string{"recon"}
		if apps.IsImage(ds.scored) {
			todo = append(todo, "denoise")
		}
		todo = append(todo, "anomaly")
		if ds.train != nil && (apps.IsImage(ds.train) || classes(ds.train) >= 2) {
			// A table's codes as features are measured by how well they
			// keep classes apart: nothing to measure with one class.
			todo = append(todo, "features")
		}
		if ds.train != nil {
			todo = append(todo, "pca")
		}
		if apps.IsVariational(m) && ds.train != nil {
			todo = append(todo, "sample")
		}
	}
	// sample fits its latent mixture on the training codes.
	needsTrain := map[string]bool{"features": true, "pca": true, "anomaly-oneclass": true, "sample": true}
	for _, task := range todo {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if needsTrain[task] && ds.train == nil {
			return nil, fmt.Errorf("%s fits on the training data, but %s", task, ds.why)
		}
		var r *apps.Result
		switch task {
		case "recon":
			r, err = apps.Recon(m, ds.scored, o.out)
		case "denoise":
			if !apps.IsImage(ds.scored) {
				return nil, fmt.Errorf("task denoise corrupts pictures, but %s holds table rows; use recon or anomaly", ds.scored.Name)
			}
			r, err = apps.Denoise(m, ds.scored, o.noiseSpec(spec), o.seed, o.out)
		case "anomaly":
			r, err = runAnomaly(o, loaded, ds, scaler)
		case "anomaly-oneclass":
			cfg := apps.OneClassConfig{Epochs: o.ocEpochs, Batch: o.batch, LR: o.lr, Seed: o.seed, Score: o.ocScore, Log: log}
			if models.IsTabular(spec.InputShape) {
				// As train sizes a table's run: 5 epochs of 128 would be a
				// handful of steps on a class of a few hundred rows.
				if !o.given["oneclass-epochs"] {
					cfg.Epochs = 0
				}
				if !o.given["batch"] {
					cfg.Batch = 0
				}
			}
			r, err = apps.OneClass(ctx, spec, ds.train, ds.scored, cfg, o.out)
		case "features":
			r, err = apps.Features(m, ds.train, ds.scored, apps.FeatureOptions{K: o.knnK, KNNTrain: o.knnTrain, Seed: o.seed}, o.out)
		case "pca":
			r, err = apps.PCACompare(m, ds.train, ds.scored, o.out)
		case "sample":
			r, err = apps.Sample(m, ds.train, ds.scored, o.seed, o.out)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", task, err)
		}
		// Every result says what it was measured on, and what was fitted
		// on which data.
		r.Values["data"] = ds.scored.Name
		r.Figures["n"] = float64(ds.scored.N)
		if needsTrain[task] {
			r.Values["fitted_on"] = ds.train.Name
			r.Figures["n_train"] = float64(ds.train.N)
		}
		s.results = append(s.results, r)
	}
	if o.task == "all" {
		info := apps.ReportInfo{Title: fmt.Sprintf("%s autoencoder on %s", spec.Kind, filepath.Base(o.data)),
			RunDir: filepath.Dir(o.checkpoint), Spec: spec, Params: m.Params().Count(), Data: filepath.Base(o.data),
			Checkpoint: o.checkpoint, TrainConfig: loaded.Meta[train.MetaConfig], EvalConfig: o.settings}
		if s.report, err = apps.Report(o.out, info, s.results); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	return s, nil
}

// trainingData is the (unscaled) training source: -train-data, else the
// training split of a source that has a test split, else the source the
// checkpoint's run configuration names. It is nil, with the reason, when
// none can be had; that is an error only for the tasks that need it.
func trainingData(o *options, loaded *train.Loaded, splits *dataset.Splits) (*dataset.Dataset, string, error) {
	if o.trainData != "" {
		sp, err := dataset.LoadWith(o.trainData, o.loadOptions())
		if err != nil {
			return nil, "", fmt.Errorf("-train-data: %w", err)
		}
		return sp.Train, "", nil
	}
	if splits.Test != nil {
		return splits.Train, "", nil
	}
	src, err := traincli.StoredSource(loaded)
	if err != nil || src == nil {
		return nil, fmt.Sprintf("%s names no training source it can read; give -train-data", o.checkpoint), nil
	}
	d, err := src.Load()
	if err != nil {
		return nil, fmt.Sprintf("its training source %s cannot be read (%v); give -train-data", src.Data, err), nil
	}
	d.Name = src.Data + " (training split)"
	if src.ValFrac == 0 {
		// Trained on every row: there was no split to name.
		d.Name = src.Data + " (all rows: trained with -val-frac 0)"
	}
	return d, "", nil
}

func runAnomaly(o *options, loaded *train.Loaded, ds data, scaler *dataset.Scaler) (*apps.Result, error) {
	m := loaded.Model
	opt := o.anomalyOptions()
	stored, hasStored, err := loaded.Threshold()
	if err != nil {
		return nil, err
	}
	var notes []string
	var normal *dataset.Dataset
	switch {
	case o.given["threshold"]:
		score := o.score
		if score == "" {
			score = apps.ScoreRecon
			if hasStored {
				score = stored.Score
			}
		}
		opt.Fixed = &train.Threshold{Value: o.threshold, Score: score}
		opt.FixedFrom = "-threshold"
	case o.normal != "":
		sp, err := dataset.LoadWith(o.normal, o.loadOptions())
		if err != nil {
			return nil, fmt.Errorf("-normal: %w", err)
		}
		normal = sp.Train
		if err := apps.CheckShape(m, normal); err != nil {
			return nil, fmt.Errorf("-normal: %w", err)
		}
		if err := o.impute(normal, io.Discard); err != nil {
			return nil, err
		}
		if scaler != nil {
			if err := scaler.Apply(normal); err != nil {
				return nil, fmt.Errorf("scaling %s: %w", normal.Name, err)
			}
		}
	case o.contamination > 0:
	case hasStored && (o.score == "" || o.score == stored.Score) && !o.given["percentile"]:
		opt.Fixed = &stored
		how := fmt.Sprintf("percentile %g", stored.Percentile)
		if stored.Contamination > 0 {
			how = fmt.Sprintf("contamination %g", stored.Contamination)
		}
		opt.FixedFrom = fmt.Sprintf("stored in %s (%s of %d training rows)", o.checkpoint, how, stored.N)
	case ds.train == nil:
		return nil, fmt.Errorf("no threshold: %s stores none and %s; give -threshold, -normal or -contamination", o.checkpoint, ds.why)
	case opt.NormalClass >= 0 && ds.train.Labels != nil:
		normal = ds.train.Filter(func(l int) bool { return l == opt.NormalClass })
	default:
		normal = ds.train
		notes = append(notes, fmt.Sprintf("threshold fitted on all of %s, taken as normal (give -normal or -normal-class to say what is)", ds.train.Name))
	}
	if opt.Score == "" {
		opt.Score = apps.ScoreRecon
		if opt.Fixed != nil {
			opt.Score = opt.Fixed.Score
		}
	}
	r, err := apps.Anomaly(m, ds.scored, normal, opt, o.out)
	if err != nil {
		return nil, err
	}
	r.Notes = append(notes, r.Notes...)
	return r, nil
}

// classes is the number of distinct labels of d (0 without labels).
func classes(d *dataset.Dataset) int {
	seen := map[int]bool{}
	for _, l := range d.Labels {
		seen[l] = true
	}
	return len(seen)
}
