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
	percentile    float64
	contamination float64
	score         string
	ocEpochs      int
	batch         int
	lr            float64
	knnK          int
	knnTrain      int
	device        string
	// settings are the flags' effective values, one "name: value" a line,
	// for the report (paths left out: they would name this machine's files).
	settings string
}

// help is the -h text; its groups follow the README's task table.
var help = cli.Help{
	Usage:   "hourglass eval -checkpoint FILE [flags]",
	Summary: "Runs a trained autoencoder on data for reconstruction, denoising, anomaly\ndetection, features, a PCA comparison or generation, and writes figures,\npictures and (with -task all) report.html.",
	Groups: []cli.Group{
		{Title: "What to run", Flags: []string{"checkpoint", "data", "label-column", "task", "limit", "seed", "device"}},
		{Title: "Output", Flags: []string{"out", "json"}},
		{Title: "Denoising", Flags: []string{"noise", "noise-std", "noise-frac"}},
		{Title: "Anomaly detection", Flags: []string{"normal", "normal-class", "percentile", "contamination", "score"}},
		{Title: "One-class (anomaly-oneclass)", Flags: []string{"oneclass-epochs", "batch", "lr"}},
		{Title: "Features", Flags: []string{"knn-k", "knn-train"}},
	},
	Examples: []string{
		"hourglass eval -checkpoint runs/deep-x/best.safetensors -task all",
		"hourglass eval -checkpoint runs/deep-x/best.safetensors -data fashion-mnist -task anomaly -normal-class 0 -json",
		"hourglass eval -checkpoint runs/vae-x/best.safetensors -task sample",
	},
}

func parseFlags(prog string, args []string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.StringVar(&o.checkpoint, "checkpoint", "", "checkpoint file (.safetensors) written by cmd/train (required)")
	fs.StringVar(&o.data, "data", "sample", "data: sample (embedded), fashion-mnist, mnist, a directory of IDX files or a .csv file")
	fs.StringVar(&o.labelColumn, "label-column", "", "CSV column holding integer labels (default: \"label\" when the header has it)")
	fs.StringVar(&o.task, "task", "all", "task: "+strings.Join(tasks, ", "))
	fs.StringVar(&o.out, "out", "", "output directory (default <checkpoint dir>/eval-<task>)")
	fs.BoolVar(&o.json, "json", false, "print every figure as one JSON object on stdout")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed (noise, samples, subsets)")
	fs.StringVar(&o.device, "device", device.DefaultDevice().String(), "where to run: cpu or cuda (cuda needs a binary built with -tags cuda)")
	fs.IntVar(&o.limit, "limit", 0, "use only the first N test samples (0: all)")
	fs.StringVar(&o.noise, "noise", "", "denoise corruption: "+strings.Join(models.NoiseKinds(), ", ")+" (default: the checkpoint's training noise, else gaussian)")
	fs.Float64Var(&o.noiseStd, "noise-std", 0, "standard deviation of gaussian noise (default: the checkpoint's, else 0.3)")
	fs.Float64Var(&o.noiseFrac, "noise-frac", 0, "fraction of pixels hit by mask/saltpepper noise (default: the checkpoint's, else 0.25)")
	fs.StringVar(&o.normal, "normal", "", "data source known to be normal, to fit the anomaly threshold on (default: the training split of -data)")
	fs.IntVar(&o.normalClass, "normal-class", -1, "label of the normal class; other labels are anomalies (gives AUROC, AUPRC, roc.png)")
	fs.Float64Var(&o.percentile, "percentile", 99, "anomaly threshold: this percentile of the normal data's scores")
	fs.Float64Var(&o.contamination, "contamination", 0, "anomaly threshold from the expected share of anomalies in the scored data, in (0, 0.5] (replaces -percentile)")
	fs.StringVar(&o.score, "score", apps.ScoreRecon, "anomaly score: recon (reconstruction error) or elbo (negative ELBO, VAE kinds)")
	fs.IntVar(&o.ocEpochs, "oneclass-epochs", 5, "anomaly-oneclass: training epochs per class")
	fs.IntVar(&o.batch, "batch", 128, "anomaly-oneclass: batch size")
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
	if o.checkpoint == "" {
		return nil, errors.New("-checkpoint is required: the .safetensors file cmd/train wrote (e.g. runs/deep-…/best.safetensors)")
	}
	if !slices.Contains(tasks, o.task) {
		return nil, fmt.Errorf("-task %q: valid tasks are %s", o.task, strings.Join(tasks, ", "))
	}
	if err := o.anomalyOptions().Check(); err != nil {
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
	return apps.AnomalyOptions{Percentile: o.percentile, Contamination: o.contamination,
		NormalClass: o.normalClass, Score: o.score, Seed: o.seed}
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
		fmt.Fprintf(w, "\n%s\n", r.Task)
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
	train, test *dataset.Dataset
	// scored is what anomaly scores: the test split, or the whole source
	// when it has none (a CSV file).
	scored *dataset.Dataset
}

func evaluate(ctx context.Context, o *options, log io.Writer) (*summary, error) {
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
	splits, err := loadSource(o.data, o.labelColumn)
	if err != nil {
		return nil, err
	}
	for _, d := range []*dataset.Dataset{splits.Train, splits.Test} {
		if d == nil {
			continue
		}
		if err := apps.CheckShape(m, d); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", o.checkpoint, err)
		}
		if scaler != nil {
			if err := scaler.Apply(d); err != nil {
				return nil, fmt.Errorf("scaling %s with the checkpoint's scaler: %w", d.Name, err)
			}
		}
	}
	if scaler == nil && strings.EqualFold(filepath.Ext(o.data), ".csv") {
		fmt.Fprintf(log, "eval: note: %s stores no scaler; the CSV values are used unscaled\n", o.checkpoint)
	}
	var ds data
	if splits.Test != nil {
		ds = data{train: splits.Train, test: splits.Test, scored: splits.Test}
	} else {
		// No test split (CSV): hold out a fifth for the tasks that need
		// unseen data; anomaly scores every row.
		if ds.train, ds.test, err = splits.Train.Split(0.2, o.seed); err != nil {
			return nil, err
		}
		ds.scored = splits.Train
	}
	if o.limit > 0 {
		ds.test, ds.scored = ds.test.Head(o.limit), ds.scored.Head(o.limit)
	}

	s := &summary{o: o, kind: spec.Kind}
	todo := []string{o.task}
	if o.task == "all" {
		todo = []string{"recon"}
		if apps.IsImage(ds.test) {
			todo = append(todo, "denoise")
		}
		todo = append(todo, "anomaly", "features", "pca")
		if apps.IsVariational(m) {
			todo = append(todo, "sample")
		}
	}
	for _, task := range todo {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var r *apps.Result
		switch task {
		case "recon":
			r, err = apps.Recon(m, ds.test, o.out)
		case "denoise":
			if !apps.IsImage(ds.test) {
				return nil, fmt.Errorf("task denoise corrupts pictures, but %s holds table rows; use recon or anomaly", ds.test.Name)
			}
			r, err = apps.Denoise(m, ds.test, o.noiseSpec(spec), o.seed, o.out)
		case "anomaly":
			r, err = runAnomaly(o, m, ds, scaler)
		case "anomaly-oneclass":
			r, err = apps.OneClass(ctx, spec, ds.train, ds.test, apps.OneClassConfig{
				Epochs: o.ocEpochs, Batch: o.batch, LR: o.lr, Seed: o.seed, Log: log}, o.out)
		case "features":
			r, err = apps.Features(m, ds.train, ds.test, apps.FeatureOptions{K: o.knnK, KNNTrain: o.knnTrain, Seed: o.seed}, o.out)
		case "pca":
			r, err = apps.PCACompare(m, ds.train, ds.test, o.out)
		case "sample":
			r, err = apps.Sample(m, ds.test, o.seed, o.out)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", task, err)
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

func runAnomaly(o *options, m models.Model, ds data, scaler *dataset.Scaler) (*apps.Result, error) {
	opt := o.anomalyOptions()
	var notes []string
	if opt.NormalClass >= 0 && ds.scored.Labels != nil && !slices.Contains(ds.scored.Labels, opt.NormalClass) {
		return nil, fmt.Errorf("-normal-class %d: no sample of %s has that label", opt.NormalClass, ds.scored.Name)
	}
	var normal *dataset.Dataset
	switch {
	case o.normal != "":
		sp, err := loadSource(o.normal, o.labelColumn)
		if err != nil {
			return nil, fmt.Errorf("-normal: %w", err)
		}
		normal = sp.Train
		if err := apps.CheckShape(m, normal); err != nil {
			return nil, fmt.Errorf("-normal: %w", err)
		}
		if scaler != nil {
			if err := scaler.Apply(normal); err != nil {
				return nil, fmt.Errorf("scaling %s: %w", normal.Name, err)
			}
		}
	case opt.NormalClass >= 0 && ds.train.Labels != nil:
		normal = ds.train.Filter(func(l int) bool { return l == opt.NormalClass })
	default:
		normal = ds.train
		if opt.Contamination == 0 {
			notes = append(notes, fmt.Sprintf("threshold fitted on all of %s, taken as normal (give -normal or -normal-class to say what is)", ds.train.Name))
		}
	}
	r, err := apps.Anomaly(m, ds.scored, normal, opt, o.out)
	if err != nil {
		return nil, err
	}
	r.Notes = append(notes, r.Notes...)
	return r, nil
}

// loadSource loads a data source; a CSV with -label-column is read with that
// column as labels.
func loadSource(source, labelColumn string) (*dataset.Splits, error) {
	if labelColumn != "" && strings.EqualFold(filepath.Ext(source), ".csv") {
		d, err := dataset.LoadCSV(source, dataset.CSVOptions{LabelColumn: labelColumn})
		if err != nil {
			return nil, err
		}
		return &dataset.Splits{Train: d}, nil
	}
	return dataset.Load(source)
}
