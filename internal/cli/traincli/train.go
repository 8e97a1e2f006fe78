// Package traincli is the train command (hourglass train, cmd/train): it
// trains an autoencoder and writes its checkpoint, metrics and a picture of
// reconstructions into a run directory.
//
//	hourglass train                       # deep autoencoder on the embedded sample
//	hourglass train -data fashion-mnist -epochs 20 -batch 256 -json
//	hourglass train -optimizer sgd -momentum 0.9 -schedule cosine -warmup 100 -early-stop 5
//	hourglass train -resume runs/deep-20250101-120000 -epochs 40   # continue a run to epoch 40
//	hourglass train -config runs/deep-20250101-120000/config.yaml  # repeat a run
//	hourglass train -data 'shards/part-*.npy' -buffer 10000      # stream data larger than memory
//
// Every run directory gets config.yaml (the effective settings), metrics.jsonl,
// metrics.csv, loss.png, epoch checkpoints, last.safetensors and
// best.safetensors. SIGINT or SIGTERM finishes the current step, saves
// last.safetensors and exits with status 130; -resume continues the run
// exactly where it stopped.
package traincli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/internal/cli"
	"github.com/hourglass-ml/hourglass/internal/config"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// Exit codes.
const (
	exitFail        = cli.ExitFail
	exitUsage       = cli.ExitUsage
	exitInterrupted = cli.ExitInterrupted
)

// ConfigName is the effective configuration written into every run directory.
const ConfigName = "config.yaml"

// notInConfig are flags that say what to do with a run rather than how it
// trains, so config.yaml leaves them out: repeating a run with -config
// makes a new run directory instead of writing over the old one.
var notInConfig = []string{"config", "resume", "out"}

// runFixed are the flags a resumed run may not change: they fix the model,
// the data, the validation split and every random draw.
var runFixed = []string{"data", "seed", "batch", "val-frac", "label-column", "scale", "clip", "impute", "stream", "buffer", "val-data"}

type options struct {
	fs      *flag.FlagSet
	spec    *models.SpecFlags
	data    string
	epochs  int
	batch   int
	lr      float64
	seed    uint64
	out     string
	json    bool
	valFrac float64
	noPCA   bool
	scale   string
	clip    float64
	impute  string
	label   string
	delim   string
	comma   rune
	device  string
	config  string
	resume  string
	stream  bool
	buffer  int
	valData string

	streamed bool // -data is streamed (see streams), decided by check

	optim     train.OptimConfig
	sched     train.ScheduleConfig
	clipNorm  float64
	earlyStop int
	minDelta  float64
	saveEvery int
	keep      int

	thrPercentile float64
	contamination float64

	dev      device.Device
	loaded   *train.Loaded // the checkpoint -resume names
	explicit map[string]bool
}

// help is the -h text; its groups follow the README's tables.
var help = cli.Help{
	Usage:   "hourglass train [flags]",
	Summary: "Trains an autoencoder and writes its checkpoints, metrics and a picture of\nreconstructions into a run directory, then prints the test error beside PCA's.",
	Groups: []cli.Group{
		{Title: "Model", Flags: []string{"model", "latent", "hidden", "output", "overcomplete", "init", "recon-loss", "noise", "noise-std", "noise-frac", "sparsity-l1", "sparsity-rho", "sparsity-beta", "beta"}},
		{Title: "Data", Flags: []string{"data", "label-column", "delimiter", "val-frac", "scale", "clip", "impute", "no-pca"}},
		{Title: "Data larger than memory (streamed shards)", Flags: []string{"stream", "buffer", "val-data"}},
		{Title: "Anomaly threshold (stored in the checkpoints)", Flags: []string{"threshold-percentile", "contamination"}},
		{Title: "Training", Flags: []string{"epochs", "batch", "lr", "seed", "device", "optimizer", "beta1", "beta2", "eps", "alpha", "momentum", "nesterov", "weight-decay", "clip-norm"}},
		{Title: "Schedule and stopping", Flags: []string{"schedule", "step-epochs", "gamma", "min-lr", "warmup", "factor", "patience", "early-stop", "min-delta"}},
		{Title: "Run directory and output", Flags: []string{"out", "resume", "config", "save-every", "keep", "json"}},
	},
	Examples: []string{
		"hourglass train                                   # deep autoencoder on the embedded sample",
		"hourglass train -model vae -data fashion-mnist -epochs 10 -batch 128",
		"hourglass train -data table.csv -epochs 100 -val-frac 0 -save-every 0   # a small table: network sized from its width",
		"hourglass train -data table.csv -hidden 16,8 -latent 4 -scale standard   # linear output for standardised data",
		"hourglass train -data shards/ -buffer 10000 -epochs 5   # stream a directory of .npy/.csv shards; the last one validates",
		"hourglass train -data 'part-*.csv' -val-data val.csv    # stream a glob of shards, validate on a file loaded whole",
		"hourglass train -resume runs/deep-20260101-120000 -epochs 40   # continue to epoch 40",
		"hourglass train -config runs/deep-20260101-120000/config.yaml  # repeat a run",
	},
}

func newFlags(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	o.spec = models.RegisterFlags(fs)
	fs.StringVar(&o.data, "data", "sample", "data: sample (embedded), fashion-mnist, mnist, a directory of IDX files or a .csv file, loaded whole; or shards streamed from disk: a directory or glob of .csv, .npy or IDX files, or a .npy file")
	fs.BoolVar(&o.stream, "stream", false, "stream -data through a shuffle buffer instead of loading it whole (automatic for a glob, a .npy file or a directory of shards; give it for a single .csv file or an IDX directory)")
	fs.IntVar(&o.buffer, "buffer", 10000, "streaming: shuffle buffer in samples; memory for the training data is about buffer × values per sample × 4 bytes, and samples mix within its reach")
	fs.StringVar(&o.valData, "val-data", "", "streaming: validation data, a .csv, .npy or IDX file loaded whole (default: the last shard in name order, held out of training)")
	fs.IntVar(&o.epochs, "epochs", 20, "total number of epochs (with -resume: of the whole run)")
	fs.IntVar(&o.batch, "batch", 64, "batch size")
	fs.Float64Var(&o.lr, "lr", 1e-3, "base learning rate")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed (weights, split, shuffling, noise)")
	fs.StringVar(&o.out, "out", "", "run directory (default runs/<model>-<timestamp>)")
	fs.BoolVar(&o.json, "json", false, "print the final summary as one JSON object on stdout")
	fs.Float64Var(&o.valFrac, "val-frac", 0.1, "fraction of the training data held out for validation (0: none; best is then the last epoch)")
	fs.StringVar(&o.label, "label-column", "", "CSV column holding integer labels, left out of the features (default: \"label\" when the header has it; none: no label column)")
	fs.StringVar(&o.delim, "delimiter", "auto", "CSV field separator: auto (detects , ; or tab), tab, or one character")
	fs.StringVar(&o.impute, "impute", "", "fill missing CSV values (empty, NA, NaN, ?) with each column's training mean, median or zero, stored in the checkpoint for scoring (default: none, a missing value is an error)")
	fs.Float64Var(&o.clip, "clip", 0, "clamp scaled values to [-clip, clip] at scoring time, so one column far outside its training range cannot dominate a score (0: off; stored in the checkpoint)")
	fs.Float64Var(&o.thrPercentile, "threshold-percentile", 99, "anomaly threshold stored with the model: this percentile of the training rows' scores")
	fs.Float64Var(&o.contamination, "contamination", 0, "anomaly threshold from the expected share of anomalies in the training data, in (0, 0.5] (replaces -threshold-percentile)")
	fs.BoolVar(&o.noPCA, "no-pca", false, "skip the PCA baseline")
	fs.StringVar(&o.scale, "scale", "auto", "feature scaling fitted on the training split and stored in the checkpoint: minmax, standard, robust (median/IQR), global (one divisor), none, or auto (minmax for tables, global for pixel-like tables and pictures outside [0,1], none for pictures in [0,1])")
	fs.StringVar(&o.device, "device", device.DefaultDevice().String(), "where to run: cpu or cuda (cuda needs a binary built with -tags cuda)")
	fs.StringVar(&o.config, "config", "", "read settings from this YAML or JSON file (keys are flag names; flags given here override it)")
	fs.StringVar(&o.resume, "resume", "", "continue the run in this directory (or from this checkpoint file)")

	fs.StringVar(&o.optim.Name, "optimizer", "adam", "optimizer: "+strings.Join(train.Optimizers(), ", "))
	fs.Float64Var(&o.optim.Beta1, "beta1", 0.9, "adam/adamw first-moment decay")
	fs.Float64Var(&o.optim.Beta2, "beta2", 0.999, "adam/adamw second-moment decay")
	fs.Float64Var(&o.optim.Eps, "eps", 1e-8, "adam/adamw/rmsprop denominator guard")
	fs.Float64Var(&o.optim.Alpha, "alpha", 0.99, "rmsprop squared-gradient decay")
	fs.Float64Var(&o.optim.Momentum, "momentum", 0, "sgd/rmsprop momentum (0: none)")
	fs.BoolVar(&o.optim.Nesterov, "nesterov", false, "sgd: Nesterov momentum")
	fs.Float64Var(&o.optim.WeightDecay, "weight-decay", 0, "L2 penalty (adam, sgd, rmsprop) or decoupled decay (adamw; 0.01 when not given)")
	fs.Float64Var(&o.clipNorm, "clip-norm", 0, "clip gradients to this global L2 norm (0: off)")

	fs.StringVar(&o.sched.Name, "schedule", "constant", "learning-rate schedule: "+strings.Join(train.Schedules(), ", "))
	fs.IntVar(&o.sched.StepEpochs, "step-epochs", 10, "step schedule: epochs between reductions")
	fs.Float64Var(&o.sched.Gamma, "gamma", 0.1, "step/exponential schedules: factor per reduction (exponential: per epoch)")
	fs.Float64Var(&o.sched.MinLR, "min-lr", 0, "cosine: final rate; plateau: lowest rate")
	fs.IntVar(&o.sched.Warmup, "warmup", 0, "steps of linear learning-rate warm-up")
	fs.Float64Var(&o.sched.Factor, "factor", 0.1, "plateau: factor applied when validation stalls")
	fs.IntVar(&o.sched.Patience, "patience", 5, "plateau: epochs without improvement before reducing")
	fs.IntVar(&o.earlyStop, "early-stop", 0, "stop after this many epochs without validation improvement (0: off)")
	fs.Float64Var(&o.minDelta, "min-delta", 0, "smallest validation improvement that counts (early stopping, plateau)")
	fs.IntVar(&o.saveEvery, "save-every", 1, "write a checkpoint every this many epochs (0: only last and best)")
	fs.IntVar(&o.keep, "keep", 3, "epoch checkpoints to keep, newest first (0: all); last and best are always kept")
	return fs
}

// specFlagNames are the flags models.RegisterFlags defines.
func specFlagNames() []string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	models.RegisterFlags(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

func parseFlags(prog string, args []string, stdout io.Writer) (*options, error) {
	o := &options{explicit: map[string]bool{}}
	fs := newFlags(o)
	o.fs = fs
	if err := cli.Parse(fs, args, help, prog, stdout); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: flags only (see -h)", fs.Arg(0))
	}
	// Flags set on the command line or in the config file are explicit;
	// the rest may come from a resumed run's stored config.
	fs.Visit(func(f *flag.Flag) { o.explicit[f.Name] = true })
	if o.config != "" {
		v, err := config.Read(o.config, fs, "config")
		if err != nil {
			return nil, err
		}
		if err := v.Apply(fs, o.explicit); err != nil {
			return nil, err
		}
		for _, k := range v.Keys {
			o.explicit[k] = true
		}
	}
	if o.resume != "" {
		if err := o.loadResume(); err != nil {
			return nil, err
		}
	}
	if !o.explicit["weight-decay"] && o.loaded == nil && strings.EqualFold(o.optim.Name, "adamw") {
		o.optim.WeightDecay = 0.01 // PyTorch's AdamW default
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("%s-%s", o.spec.Kind, time.Now().Format("20060102-150405")))
	}
	return o, nil
}

// loadResume reads the checkpoint -resume names and takes every setting
// the user did not give from the run's stored config, refusing changes to
// the settings that fix the run.
func (o *options) loadResume() error {
	path := o.resume
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, train.LastName)
		if _, err := os.Stat(path); err != nil {
			hint := "no checkpoint was saved in it"
			if newest := newestEpoch(o.resume); newest != "" {
				hint = "its newest epoch checkpoint is " + newest + ": resume from that file"
			}
			return loadError{fmt.Errorf("-resume %s: %s is missing; %s", o.resume, train.LastName, hint)}
		}
	} else if err != nil {
		return fmt.Errorf("-resume %s: %w", o.resume, err)
	}
	loaded, err := train.LoadCheckpoint(path)
	if err != nil {
		return loadError{fmt.Errorf("-resume: %w", err)}
	}
	stored, ok := loaded.Meta[train.MetaConfig]
	if !ok {
		return loadError{fmt.Errorf("-resume %s: this checkpoint holds no run configuration (it was not written by cmd/train), so the run cannot be continued from it", path)}
	}
	v, err := config.Parse(path+" (stored config)", []byte(stored), o.fs, notInConfig...)
	if err != nil {
		return fmt.Errorf("-resume: %w", err)
	}
	for _, k := range append(specFlagNames(), runFixed...) {
		want, ok := v.Text[k]
		if !ok || !o.explicit[k] {
			continue
		}
		if got := o.fs.Lookup(k).Value.String(); !sameValue(got, want) {
			return fmt.Errorf("-resume %s: -%s %s conflicts with the run's -%s %s: a resumed run keeps its model, data, seed, batch and validation split; drop -%s or start a new run with another -out", path, k, got, k, want, k)
		}
	}
	if err := v.Apply(o.fs, o.explicit); err != nil {
		return fmt.Errorf("-resume: %w", err)
	}
	dir := filepath.Dir(path)
	if o.explicit["out"] && filepath.Clean(o.out) != filepath.Clean(dir) {
		return fmt.Errorf("-resume %s: -out %s: a resumed run continues in its own directory %s; drop -out", path, o.out, dir)
	}
	o.out, o.loaded = dir, loaded
	return nil
}

// holdsCheckpoint reports whether dir has any .safetensors file.
func holdsCheckpoint(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	return len(files) > 0
}

// loadError marks a checkpoint that could not be read: the work failed
// (exit 1), the flags were fine.
type loadError struct{ error }

func (e loadError) Unwrap() error { return e.error }

// newestEpoch is the newest epoch checkpoint in dir, or "".
func newestEpoch(dir string) string {
	files, _ := train.EpochCheckpoints(dir)
	if len(files) == 0 {
		return ""
	}
	return files[len(files)-1]
}

// sameValue compares two settings of a flag as values (so 0.1 equals 0.10).
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	return errA == nil && errB == nil && fa == fb
}

func (o *options) check() error {
	if err := o.spec.Check(); err != nil {
		return err
	}
	if err := o.checkStreaming(); err != nil {
		return err
	}
	switch {
	case o.epochs < 0:
		return fmt.Errorf("-epochs %d: must be zero or more", o.epochs)
	case o.batch <= 0:
		return fmt.Errorf("-batch %d: must be positive", o.batch)
	case !(o.lr > 0) || math.IsInf(o.lr, 0):
		return fmt.Errorf("-lr %g: must be a positive number", o.lr)
	case !(o.valFrac >= 0 && o.valFrac < 1):
		return fmt.Errorf("-val-frac %g: must be at least 0 (no validation) and below 1", o.valFrac)
	case o.valFrac == 0 && o.earlyStop > 0:
		return fmt.Errorf("-early-stop %d needs validation data: set -val-frac above 0", o.earlyStop)
	case o.valFrac == 0 && o.sched.Name == "plateau":
		return fmt.Errorf("-schedule plateau needs validation data: set -val-frac above 0")
	case o.saveEvery < 0:
		return fmt.Errorf("-save-every %d: must be 0 (only last and best) or more", o.saveEvery)
	case !(o.clip >= 0) || math.IsInf(o.clip, 0):
		return fmt.Errorf("-clip %g: must be 0 (off) or a positive number", o.clip)
	case !(o.thrPercentile >= 0 && o.thrPercentile <= 100):
		return fmt.Errorf("-threshold-percentile %g: must be between 0 and 100", o.thrPercentile)
	case o.contamination != 0 && !(o.contamination > 0 && o.contamination <= 0.5):
		return fmt.Errorf("-contamination %g: must be in (0, 0.5], the expected share of anomalies", o.contamination)
	}
	comma, err := dataset.ParseDelimiter(o.delim)
	if err != nil {
		return err
	}
	o.comma = comma
	if o.impute != "" && !slices.Contains(dataset.ImputeKinds(), o.impute) {
		return fmt.Errorf("-impute %q: valid: %s (or leave it out: missing values are then an error)", o.impute, strings.Join(dataset.ImputeKinds(), ", "))
	}
	if !slices.Contains(append(dataset.ScalerKinds(), "auto"), o.scale) {
		return fmt.Errorf("-scale %q: valid: auto, %s", o.scale, strings.Join(dataset.ScalerKinds(), ", "))
	}
	dev, err := device.ParseDevice(o.device)
	if err != nil {
		return fmt.Errorf("-device: %w", err)
	}
	o.dev = dev
	cfg := o.trainConfig()
	if err := cfg.Optim.Validate(); err != nil {
		return fmt.Errorf("-optimizer: %w", err)
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return nil
}

// checkStreaming decides whether -data is streamed and refuses the flags
// that do not apply to the way it is read. Values, not whether a flag was
// given, decide: a config.yaml replayed with -config gives every flag.
func (o *options) checkStreaming() error {
	o.streamed = streams(o.data, o.stream)
	if !o.streamed {
		switch {
		case o.valData != "":
			return fmt.Errorf("-val-data %s applies to streamed training (-stream, or -data a directory or glob of shards); -data %s is loaded whole and split by -val-frac", o.valData, o.data)
		case o.buffer != 10000:
			return fmt.Errorf("-buffer %d applies to streamed training (-stream, or -data a directory or glob of shards); -data %s is loaded whole", o.buffer, o.data)
		}
		return nil
	}
	switch {
	case o.buffer <= 0:
		return fmt.Errorf("-buffer %d: must be a positive number of samples", o.buffer)
	case o.valFrac != 0.1:
		return fmt.Errorf("-val-frac %g applies to data loaded whole: streamed training validates on -val-data FILE or, without it, on the last shard", o.valFrac)
	case o.label != "" && o.label != "label":
		return fmt.Errorf("-label-column %q applies to data loaded whole: CSV shards leave out a column named label and read every other column as a feature", o.label)
	case o.delim != "auto" && o.delim != ",":
		return fmt.Errorf("-delimiter %q applies to data loaded whole: CSV shards are comma-separated", o.delim)
	case o.impute != "":
		return fmt.Errorf("-impute %s applies to data loaded whole: shards must hold no missing values (fill them when writing the shards)", o.impute)
	case o.scale == "robust" || o.scale == "global":
		return fmt.Errorf("-scale %s needs the data loaded whole (a median, or one divisor over every value); streamed training takes minmax, standard or none (auto: minmax, or none for pictures in [0,1])", o.scale)
	}
	return nil
}

// streams reports whether -data names shards to stream rather than a data
// set to load whole: with -stream, or when dataset.IsShardSource says so.
func streams(data string, force bool) bool { return force || dataset.IsShardSource(data) }

// trainConfig is the train.Config the options describe, without data.
func (o *options) trainConfig() train.Config {
	sched := o.sched
	sched.MinDelta = o.minDelta
	every := o.saveEvery
	if every == 0 {
		every = math.MaxInt32 // only the last epoch (and best) are written
	}
	return train.Config{
		Epochs: o.epochs, Batch: o.batch, LR: o.lr, Seed: o.seed, OutDir: o.out,
		Optim: o.optim, Schedule: sched, ClipNorm: o.clipNorm,
		EarlyStop: o.earlyStop, MinDelta: o.minDelta, SaveEvery: every, Keep: o.keep,
		Device: o.dev, Resume: o.loaded,
		// A new run's model is fresh: a VAE starts its output at the data's mean.
		InitFromData: o.loaded == nil,
	}
}

// summary is the final report, printed as text or, with -json, as one object.
type summary struct {
	Model  string `json:"model"`
	Data   string `json:"data"`
	Epochs int    `json:"epochs"`
	// Network is the layer widths, input to code ("30-20-14-8").
	Network string `json:"network"`
	Output  string `json:"output"`
	// Scale is the scaling applied and why auto chose it.
	Scale     string   `json:"scale"`
	ScaleWhy  string   `json:"scale_reason,omitempty"`
	Labels    string   `json:"labels,omitempty"`
	TrainN    int      `json:"train_n"`
	TrainLoss float64  `json:"train_loss"`
	ValLoss   *float64 `json:"val_loss,omitempty"` // none without validation data
	// EvalOn names the data the figures below are measured on: the test
	// split, the validation split or (without either) the training data.
	EvalOn   string   `json:"eval_on"`
	EvalN    int      `json:"eval_n"`
	TestLoss float64  `json:"test_loss"`
	TestMSE  float64  `json:"test_mse"`
	TestPSNR *float64 `json:"test_psnr,omitempty"`
	PCAMSE   *float64 `json:"pca_mse,omitempty"`
	// PCAFit says what PCA was fitted on when not all the training rows.
	PCAFit         string             `json:"pca_fit,omitempty"`
	Parts          map[string]float64 `json:"parts,omitempty"`
	Figures        map[string]float64 `json:"figures,omitempty"`
	Threshold      *train.Threshold   `json:"threshold,omitempty"`
	EpochSeconds   []float64          `json:"epoch_seconds"`
	BestEpoch      int                `json:"best_epoch"`
	Stopped        string             `json:"stopped,omitempty"`
	Checkpoint     string             `json:"checkpoint"`
	BestCheckpoint string             `json:"best_checkpoint"`
	Picture        string             `json:"reconstructions,omitempty"`
	RunDir         string             `json:"run_dir"`
}

// Run runs the train command with args (without the program name) and
// returns its exit code; prog prefixes every message ("hourglass train").
func Run(prog string, args []string, stdout, stderr io.Writer) int {
	if hint := device.MisplacedTagHint(args); hint != "" {
		fmt.Fprintf(stderr, "%s: %s\n", prog, hint)
		return exitUsage
	}
	o, err := parseFlags(prog, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		if errors.As(err, new(loadError)) {
			return exitFail
		}
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the run winds down; a second one kills it
		// at once (the last checkpoint on disk stays whole either way).
		<-ctx.Done()
		stop()
	}()
	s, err := trainAndReport(ctx, o, stderr)
	if errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(stderr, "%s: %v\n%s: resume with: %s -resume %s\n", prog, err, prog, prog, o.out)
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return exitFail
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(s); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return exitFail
		}
		return 0
	}
	printSummary(stdout, s)
	return 0
}

// tableDefaults sizes the batch and the epochs the user did not give for a
// table of n training rows: batches of an eighth of the rows (8 to 64) and
// about train.TableSteps steps (20 to 500 epochs), writing only the last and
// best checkpoints then. It returns a note saying what it chose, or "".
func (o *options) tableDefaults(n int) string {
	var chose []string
	if !o.explicit["batch"] {
		o.batch = train.TableBatch(n)
		chose = append(chose, fmt.Sprintf("-batch %d", o.batch))
	}
	if !o.explicit["epochs"] {
		perEpoch := (n + o.batch - 1) / o.batch
		o.epochs = train.TableEpochs(n, o.batch)
		chose = append(chose, fmt.Sprintf("-epochs %d (about %d steps)", o.epochs, o.epochs*perEpoch))
		if !o.explicit["save-every"] {
			o.saveEvery = 0
			chose = append(chose, "-save-every 0")
		}
	}
	if len(chose) == 0 {
		return ""
	}
	for _, f := range []string{"batch", "epochs", "save-every"} {
		// Through the flag set, so config.yaml records the values used.
		if fl := o.fs.Lookup(f); fl != nil {
			v := map[string]int{"batch": o.batch, "epochs": o.epochs, "save-every": o.saveEvery}[f]
			_ = fl.Value.Set(strconv.Itoa(v)) // an int always parses
		}
	}
	return fmt.Sprintf("a table of %d training rows: %s; give these flags to choose otherwise", n, strings.Join(chose, ", "))
}

// thresholdRows caps the training rows scored for the stored threshold
// after every epoch: a percentile of 10,000 scores is stable, and scoring
// 60,000 pictures each epoch would cost more than it tells.
const thresholdRows = 10000

// runData is what a run trains and is measured on: a training split loaded
// whole, or training shards streamed from disk.
type runData struct {
	name     string           // the source, for messages
	trainSet *dataset.Dataset // loaded whole: the (scaled) training split
	stream   *dataset.Stream  // streamed: the training shards, unscaled
	valSet   *dataset.Dataset // nil without validation data
	test     *dataset.Dataset
	evalOn   string
	labels   string
	shape    []int
	trainN   int

	scaler              *dataset.Scaler
	imputer             *dataset.Imputer // -impute, fitted on the training split
	scaleKind, scaleWhy string
	unitRange           bool
	// thrRows are the (scaled) training rows the threshold is fitted on,
	// pcaRows those of the PCA baseline; pcaNote says how they stand for
	// the training data when they are not all of it.
	thrRows, pcaRows *dataset.Dataset
	pcaNote          string
}

// loadWhole loads -data into memory and splits off -val-frac for validation.
func loadWhole(o *options, log io.Writer) (*runData, error) {
	splits, err := dataset.LoadWith(o.data, dataset.LoadOptions{LabelColumn: o.label, Delimiter: o.comma, Missing: o.impute != ""})
	if err != nil {
		return nil, err
	}
	all := splits.Train
	trainSet, valSet := all, (*dataset.Dataset)(nil)
	if o.valFrac > 0 {
		if trainSet, valSet, err = all.Split(o.valFrac, o.seed); err != nil {
			return nil, err
		}
	}
	test, evalOn := splits.Test, "test split"
	switch {
	case test == nil && valSet != nil:
		test, evalOn = valSet, "validation split"
	case test == nil:
		test, evalOn = trainSet, "training data (no test or validation split: -val-frac 0)"
	}
	imputer, err := fitImputer(o, log, trainSet, valSet, test)
	if err != nil {
		return nil, err
	}
	unitRange := dataset.InUnitRange(trainSet) // before scaling: decides "none"
	scaler, scaleKind, scaleWhy, err := fitScaler(o, trainSet, valSet, test)
	if err != nil {
		return nil, err
	}
	if scaler != nil {
		// min-max and global map the training data onto [0,1] (up to
		// rounding); standard and robust do not.
		unitRange = scaler.Kind == "minmax" || scaler.Kind == "global"
	}
	return &runData{name: all.Name, trainSet: trainSet, valSet: valSet, test: test, evalOn: evalOn,
		labels: dataset.LabelSummary(all), shape: []int{trainSet.C, trainSet.H, trainSet.W}, trainN: trainSet.N,
		scaler: scaler, imputer: imputer, scaleKind: scaleKind, scaleWhy: scaleWhy, unitRange: unitRange,
		thrRows: trainSet.Head(thresholdRows), pcaRows: trainSet}, nil
}

// openStreamed opens -data's shards for streaming, checking every row
// first, and loads the validation data whole: -val-data, or else the last
// shard in name order, held out of training. Validation is measured every
// epoch, so it stays in memory and is meant to be small; the threshold and
// the PCA baseline are fitted on a uniform sample of the training rows.
func openStreamed(o *options, log io.Writer) (_ *runData, err error) {
	paths, err := dataset.ShardPaths(o.data)
	if err != nil {
		return nil, fmt.Errorf("-data: %w", err)
	}
	held := ""
	if o.valData == "" {
		if len(paths) < 2 {
			return nil, fmt.Errorf("-data %s: streamed training validates on the last shard, held out, but there is only %s: give -val-data FILE, or split the data into several shards", o.data, paths[0])
		}
		held, paths = paths[len(paths)-1], paths[:len(paths)-1]
	}
	// Batch 1 until the data's size has settled the batch (tableDefaults).
	st, err := dataset.OpenStreamPaths(o.data, paths, dataset.StreamOptions{BatchSize: 1, Buffer: o.buffer, Seed: o.seed})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	var valSet *dataset.Dataset
	evalOn := "validation data (-val-data " + o.valData + ")"
	switch {
	case held != "":
		if valSet, err = dataset.ReadShard(held, ""); err != nil {
			return nil, fmt.Errorf("validation shard: %w", err)
		}
		if valSet.Dim() != st.Dim() {
			return nil, fmt.Errorf("shard %s (held out for validation): row 0: %d values per sample but the training shards of %s hold %d; all shards must share one width", held, valSet.Dim(), o.data, st.Dim())
		}
		evalOn = "validation data (held-out shard " + held + ")"
		fmt.Fprintf(log, "validation: the last shard, %s (%d samples), is held out of training and loaded whole; give -val-data FILE to validate on other data\n", held, valSet.N)
	case dataset.ShardFormat(o.valData) != "":
		valSet, err = dataset.ReadShard(o.valData, "")
	default:
		var sp *dataset.Splits
		if sp, err = dataset.Load(o.valData); err == nil {
			valSet = sp.Train
		}
	}
	if err != nil {
		return nil, fmt.Errorf("-val-data: %w", err)
	}
	if valSet.Dim() != st.Dim() {
		return nil, fmt.Errorf("validation data %s: %d values per sample, but the training shards of %s hold %d: validate on data of the same columns", valSet.Name, valSet.Dim(), o.data, st.Dim())
	}
	c, h, w := st.Shape()
	valSet.C, valSet.H, valSet.W = c, h, w // an IDX or .npy file may say 1×784 where the shards say 28×28
	fmt.Fprintf(log, "streaming %s\n", st)
	d := &runData{name: o.data, stream: st, valSet: valSet, test: valSet, evalOn: evalOn, shape: []int{c, h, w}, trainN: st.Len()}
	if err := fitStreamScaler(o, d); err != nil {
		return nil, err
	}
	sample, err := dataset.SampleStream(st, thresholdRows, o.seed)
	if err != nil {
		return nil, err
	}
	if d.scaler != nil {
		if err := d.scaler.Apply(sample); err != nil {
			return nil, fmt.Errorf("-scale: %w", err)
		}
	}
	d.thrRows, d.pcaRows = sample, sample
	if sample.N < st.Len() {
		d.pcaNote = fmt.Sprintf("fitted on a uniform sample of %d of the %d training rows: streamed data is not loaded whole", sample.N, st.Len())
	}
	return d, nil
}

// errOutOfRange stops a pass that found a value outside [0,1].
var errOutOfRange = errors.New("a value outside [0,1]")

// fitStreamScaler fits the -scale scaler on d's training shards with
// dataset.FitScalerStream and applies it to the validation data; the
// batches are scaled as they are read. auto picks minmax for tables, none
// for pictures already in [0,1] and minmax for other pictures (global
// scaling, auto's choice for them when loaded whole, needs every value).
func fitStreamScaler(o *options, d *runData) error {
	inUnit := func() (bool, error) {
		err := d.stream.Each(func(x []float32) error {
			for _, v := range x {
				if v < 0 || v > 1 {
					return errOutOfRange
				}
			}
			return nil
		})
		if errors.Is(err, errOutOfRange) {
			return false, nil
		}
		return err == nil, err
	}
	kind := o.scale
	if kind == "auto" {
		kind, d.scaleWhy = "minmax", "a table: each column mapped onto [0,1] by its training range"
		if d.shape[0] > 1 || d.shape[1] > 1 {
			in, err := inUnit()
			if err != nil {
				return fmt.Errorf("-scale auto: %w", err)
			}
			kind, d.scaleWhy = "minmax", "pictures outside [0,1], streamed: each value mapped onto [0,1] by its training range"
			if in {
				kind, d.scaleWhy = "none", "pictures already in [0,1]"
			}
		}
	}
	d.scaleKind = kind
	if kind == "none" {
		if o.clip > 0 {
			return fmt.Errorf("-clip %g needs a scaler; -scale %s leaves data unscaled", o.clip, o.scale)
		}
		var err error
		if d.unitRange, err = inUnit(); err != nil {
			return fmt.Errorf("-scale none: %w", err)
		}
		return nil
	}
	sc, err := dataset.FitScalerStream(kind, d.stream)
	if err != nil {
		return fmt.Errorf("-scale: %w", err)
	}
	sc.Clip = float32(o.clip)
	if err := sc.Apply(d.valSet); err != nil {
		return fmt.Errorf("-scale: %w", err)
	}
	d.scaler, d.unitRange = sc, kind == "minmax"
	return nil
}

func trainAndReport(ctx context.Context, o *options, log io.Writer) (_ *summary, err error) {
	var d *runData
	if o.streamed {
		if d, err = openStreamed(o, log); err != nil {
			return nil, err
		}
		defer d.stream.Close()
	} else if d, err = loadWhole(o, log); err != nil {
		return nil, err
	}
	trainSet, valSet, test, scaler := d.trainSet, d.valSet, d.test, d.scaler
	o.spec.Rows = d.trainN
	if o.loaded != nil && o.spec.Hidden == "" && models.IsTabular(o.loaded.Model.Spec().InputShape) {
		// A run started under another default width keeps its network.
		var widths []string
		for _, w := range o.loaded.Model.Spec().Hidden {
			widths = append(widths, strconv.Itoa(w))
		}
		o.spec.Hidden = strings.Join(widths, ",")
	}
	spec, err := o.spec.SpecFor(d.shape, o.seed, d.unitRange)
	if err != nil {
		return nil, err
	}
	if models.IsTabular(spec.InputShape) && o.loaded == nil {
		if note := o.tableDefaults(d.trainN); note != "" {
			fmt.Fprintln(log, note)
		}
	}
	if d.stream != nil {
		if err := d.stream.SetBatchSize(o.batch); err != nil {
			return nil, err
		}
	}
	// The lock is taken before anything is checked or written, so a second
	// training started into the same -out fails before touching anything.
	_, statErr := os.Stat(o.out)
	created := errors.Is(statErr, fs.ErrNotExist)
	rd, err := train.OpenRunDir(o.out)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	defer func() {
		// A run that failed before its first checkpoint leaves no directory
		// it created behind (an interrupted one has saved a checkpoint).
		if err != nil && created && !holdsCheckpoint(o.out) {
			rd.Close()
			os.RemoveAll(o.out)
		}
	}()
	var m models.Model
	if o.loaded != nil {
		if got, want := o.loaded.Model.Spec().JSON(), spec.JSON(); got != want {
			return nil, fmt.Errorf("-resume %s: the checkpoint's model %s differs from the one its run configuration describes, %s: was the checkpoint copied from another run?", o.loaded.Path, got, want)
		}
		m = o.loaded.Model
	} else {
		if _, err := os.Stat(filepath.Join(o.out, train.LastName)); err == nil {
			return nil, fmt.Errorf("run directory %s already holds a run: continue it with -resume %s, or choose another -out", o.out, o.out)
		}
		if m, err = models.New(spec); err != nil {
			return nil, err
		}
	}
	cfg := o.trainConfig()
	if err := train.CheckResumeN(cfg, m, d.trainN); err != nil {
		return nil, fmt.Errorf("-resume: %w", err)
	}
	cfg.Run = rd
	header := "hourglass train configuration: repeat this run with  hourglass train -config " + filepath.Join(o.out, ConfigName)
	if err := config.WriteFile(filepath.Join(o.out, ConfigName), o.fs, header, notInConfig...); err != nil {
		return nil, err
	}
	verb := "training"
	if o.loaded != nil {
		verb = fmt.Sprintf("resuming from %s (epoch %d, step %d):", o.loaded.Path, o.loaded.State.Epoch, o.loaded.State.Step)
	}
	valN := 0
	if valSet != nil {
		valN = valSet.N
	}
	if d.labels != "" {
		fmt.Fprintf(log, "labels: %s of %s, left out of the features\n", d.labels, d.name)
	}
	fmt.Fprintf(log, "%s %s %s (%d parameters, %s output) on %s: %d train, %d validation samples, scale %s; run directory %s\n",
		verb, spec.Kind, network(spec), m.Params().Count(), outputName(spec), d.name, d.trainN, valN, d.scaleKind, o.out)
	bar := false
	if f, ok := log.(*os.File); ok {
		bar = term.IsTerminal(int(f.Fd()))
	}
	cfg.Progress = train.NewProgress(log, bar)
	stored, err := config.MarshalJSON(o.fs, notInConfig...)
	if err != nil {
		return nil, err
	}
	cfg.Meta = map[string]string{train.MetaConfig: string(stored)}
	if scaler != nil {
		if cfg.Meta[train.MetaScaler], err = train.EncodeMeta(scaler); err != nil {
			return nil, err
		}
	}
	if d.imputer != nil {
		if cfg.Meta[train.MetaImputer], err = train.EncodeMeta(d.imputer); err != nil {
			return nil, err
		}
	}
	// Every checkpoint carries the threshold of its own weights: Fit writes
	// cfg.Meta after AfterEpoch, so the best and the last file each get the
	// threshold fitted on the training rows at their epoch.
	thrRows := d.thrRows
	var thr train.Threshold
	cfg.AfterEpoch = func(train.EpochStats) error {
		t, err := fitThreshold(m, thrRows, o.thrPercentile, o.contamination)
		if err != nil {
			return fmt.Errorf("anomaly threshold: %w", err)
		}
		thr = t
		cfg.Meta[train.MetaThreshold], err = train.EncodeMeta(t)
		return err
	}
	var res *train.Result
	if d.stream != nil {
		var src dataset.BatchSource = d.stream
		if scaler != nil {
			src = dataset.Scaled(src, scaler)
		}
		res, err = train.FitSource(ctx, m, src, valSet, cfg)
	} else {
		res, err = train.Fit(ctx, m, trainSet, valSet, cfg)
	}
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(log, "warning: %s\n", w)
	}
	if res.Stopped != "" {
		fmt.Fprintf(log, "%s\n", res.Stopped)
	}
	if err := finishFiles(o, res, len(res.History), valSet == nil); err != nil {
		return nil, err
	}
	s := &summary{Model: spec.Kind, Data: o.data, Epochs: len(res.History), RunDir: o.out,
		Network: network(spec), Output: outputName(spec), Scale: d.scaleKind, ScaleWhy: d.scaleWhy,
		Labels: d.labels, TrainN: d.trainN, EvalOn: d.evalOn, EvalN: test.N,
		Checkpoint: res.Checkpoint, BestCheckpoint: res.BestCheckpoint, BestEpoch: res.BestEpoch, Stopped: res.Stopped}
	if thr.Score != "" {
		s.Threshold = &thr
	}
	for _, h := range res.History {
		s.EpochSeconds = append(s.EpochSeconds, h.Seconds)
	}
	if n := len(res.History); n > 0 {
		s.TrainLoss = res.History[n-1].TrainLoss
		if v := res.History[n-1].ValLoss; !math.IsNaN(v) {
			s.ValLoss = &v
		}
	}
	if s.TestLoss, s.Parts, err = train.Evaluate(m, test, o.batch, o.seed); err != nil {
		return nil, fmt.Errorf("test loss: %w", err)
	}
	recon, err := models.Reconstruct(m, test.X, test.N)
	if err != nil {
		return nil, fmt.Errorf("reconstructing test data: %w", err)
	}
	if f, ok := m.(models.Figurer); ok {
		if s.Figures, err = f.Figures(test.X, test.N, o.seed); err != nil {
			return nil, fmt.Errorf("test figures: %w", err)
		}
	}
	s.TestMSE = eval.MSE(test.X, recon)
	tabular := models.IsTabular(spec.InputShape)
	if !o.noPCA {
		p := d.pcaRows
		pca, err := eval.FitPCA(p.X, p.N, p.Dim(), min(spec.Latent, p.N, p.Dim()))
		if err != nil {
			return nil, fmt.Errorf("PCA baseline: %w", err)
		}
		v := eval.MSE(test.X, pca.Reconstruct(test.X, test.N))
		s.PCAMSE, s.PCAFit = &v, d.pcaNote
	}
	if tabular {
		return s, nil // PSNR and a picture mean nothing for table rows
	}
	psnr := eval.MeanPSNR(test.X, recon, test.Dim(), 1)
	s.TestPSNR = &psnr
	s.Picture = filepath.Join(o.out, "reconstructions.png")
	n := min(20, test.N)
	if err := eval.SaveReconstructionGrid(s.Picture, test.X[:n*test.Dim()], recon[:n*test.Dim()], n, test.C, test.H, test.W); err != nil {
		return nil, fmt.Errorf("writing reconstructions: %w", err)
	}
	return s, nil
}

// fitThreshold is the anomaly threshold of m on (scaled) normal rows: the
// percentile of their scores or, with contamination > 0, the score that
// flags that share of them.
func fitThreshold(m models.Model, normal *dataset.Dataset, percentile, contamination float64) (train.Threshold, error) {
	scores, err := models.Scores(m, normal.X, normal.N)
	if err != nil {
		return train.Threshold{}, err
	}
	t := train.Threshold{Score: "recon", N: normal.N}
	if _, ok := m.(models.Variational); ok {
		t.Score = "elbo"
	}
	if contamination > 0 {
		t.Contamination = contamination
		t.Value, err = eval.ThresholdFromContamination(scores, contamination)
	} else {
		t.Percentile = percentile
		t.Value, err = eval.Percentile(scores, percentile)
	}
	return t, err
}

// finishFiles makes the run directory hold what the flags promise once
// Fit is done: without validation data the best checkpoint is the last,
// and -save-every 0 keeps no epoch file beside last and best.
func finishFiles(o *options, res *train.Result, epochs int, noVal bool) error {
	if res.Checkpoint == "" {
		return nil
	}
	if noVal {
		best := filepath.Join(o.out, train.BestName)
		b, err := os.ReadFile(res.Checkpoint)
		if err != nil {
			return fmt.Errorf("copying the last checkpoint to %s: %w", best, err)
		}
		if err := os.WriteFile(best, b, 0o644); err != nil {
			return fmt.Errorf("copying the last checkpoint to %s: %w", best, err)
		}
		res.BestCheckpoint, res.BestEpoch = best, epochs
	}
	if o.saveEvery == 0 {
		err := os.Remove(filepath.Join(o.out, train.EpochName(epochs)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("-save-every 0: %w", err)
		}
	}
	return nil
}

// network is a spec's layer widths from input to code: "30-20-14-8".
func network(s models.Spec) string {
	parts := []string{strconv.Itoa(s.InputDim())}
	for _, h := range s.Hidden {
		parts = append(parts, strconv.Itoa(h))
	}
	for _, c := range s.Channels {
		parts = append(parts, "conv"+strconv.Itoa(c))
	}
	return strings.Join(append(parts, strconv.Itoa(s.Latent)), "-")
}

func outputName(s models.Spec) string {
	if s.Output == "identity" {
		return models.OutputLinear
	}
	return s.Output
}

func printSummary(w io.Writer, s *summary) {
	fmt.Fprintf(w, "\n%s autoencoder %s (%s output), %d epochs on %s (%d training rows)\n", s.Model, s.Network, s.Output, s.Epochs, s.Data, s.TrainN)
	scale := s.Scale
	if s.ScaleWhy != "" {
		scale += " (auto: " + s.ScaleWhy + ")"
	}
	fmt.Fprintf(w, "  scale      %s\n", scale)
	if s.Labels != "" {
		fmt.Fprintf(w, "  labels     %s, not a feature\n", s.Labels)
	}
	fmt.Fprintf(w, "  on the %s, n=%d:\n", s.EvalOn, s.EvalN)
	if s.TestPSNR != nil {
		fmt.Fprintf(w, "  MSE        %.5f   (PSNR %.2f dB)\n", s.TestMSE, *s.TestPSNR)
	} else {
		fmt.Fprintf(w, "  MSE        %.5f   (scaled units)\n", s.TestMSE)
	}
	if s.PCAMSE != nil {
		fit := "fitted on the same training data"
		if s.PCAFit != "" {
			fit = s.PCAFit
		}
		fmt.Fprintf(w, "  PCA MSE    %.5f   (same number of components, %s)\n", *s.PCAMSE, fit)
	}
	fmt.Fprintf(w, "  loss       %.5f\n", s.TestLoss)
	for _, k := range slices.Sorted(maps.Keys(s.Parts)) {
		fmt.Fprintf(w, "  %-10s %.5f\n", k, s.Parts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Figures)) {
		fmt.Fprintf(w, "  %-20s %.5f\n", k, s.Figures[k])
	}
	if t := s.Threshold; t != nil {
		how := fmt.Sprintf("percentile %g", t.Percentile)
		if t.Contamination > 0 {
			how = fmt.Sprintf("contamination %g", t.Contamination)
		}
		fmt.Fprintf(w, "  threshold  %.6g (%s score, %s of %d training rows; stored in the checkpoints)\n", t.Value, t.Score, how, t.N)
	}
	if s.Checkpoint == "" {
		fmt.Fprintf(w, "  checkpoint none (no epoch was trained)\n")
	} else {
		fmt.Fprintf(w, "  checkpoint %s (best: %s, epoch %d)\n", s.Checkpoint, s.BestCheckpoint, s.BestEpoch)
	}
	if s.Stopped != "" {
		fmt.Fprintf(w, "  stopped    %s\n", s.Stopped)
	}
	if s.Picture != "" {
		fmt.Fprintf(w, "  picture    %s\n", s.Picture)
	}
}

// fitScaler fits the -scale scaler on the training split (auto: the
// policy of dataset.AutoScale) and applies it to every split, so that the
// model and the eval command see the same features. It returns the kind
// applied and, for auto, why.
func fitScaler(o *options, sets ...*dataset.Dataset) (sc *dataset.Scaler, kind, why string, err error) {
	kind = o.scale
	if kind == "auto" {
		kind, why = dataset.AutoScale(sets[0])
	}
	if kind == "none" {
		if o.clip > 0 {
			return nil, "", "", fmt.Errorf("-clip %g needs a scaler; -scale %s leaves data unscaled", o.clip, o.scale)
		}
		return nil, kind, why, nil
	}
	if sc, err = dataset.FitScaler(kind, sets[0]); err != nil {
		return nil, "", "", fmt.Errorf("-scale: %w", err)
	}
	sc.Clip = float32(o.clip)
	seen := map[*dataset.Dataset]bool{}
	for _, d := range sets {
		if d == nil || seen[d] {
			continue
		}
		seen[d] = true
		if err := sc.Apply(d); err != nil {
			return nil, "", "", fmt.Errorf("-scale: %w", err)
		}
	}
	return sc, kind, why, nil
}

// fitImputer fits the -impute policy on the training split (sets[0]) and
// fills every split with it, before any scaler sees the data; it says on
// log how many values it filled. Without -impute it returns nil.
func fitImputer(o *options, log io.Writer, sets ...*dataset.Dataset) (*dataset.Imputer, error) {
	if o.impute == "" {
		return nil, nil
	}
	im, err := dataset.FitImputer(o.impute, sets[0])
	if err != nil {
		return nil, fmt.Errorf("-impute: %w", err)
	}
	seen := map[*dataset.Dataset]bool{}
	filled := 0
	for _, d := range sets {
		if d == nil || seen[d] {
			continue
		}
		seen[d] = true
		n, err := im.Apply(d)
		if err != nil {
			return nil, fmt.Errorf("-impute: %w", err)
		}
		filled += n
	}
	fmt.Fprintf(log, "impute: %d missing values filled with their column's training %s (fitted on %d rows)\n", filled, o.impute, sets[0].N)
	return im, nil
}

// TrainingSource is the data a run trained on, as its checkpoint's stored
// configuration says: the eval command fits what it needs (PCA, kNN, a
// threshold) on it rather than on the data it scores.
type TrainingSource struct {
	Data, LabelColumn string
	Delimiter         rune
	// Missing: the run imputed missing values, so they are read as NaN.
	Missing bool
	ValFrac float64
	Seed    uint64
	// Streamed says the run streamed Data's shards rather than load them.
	Streamed bool
}

// StoredSource reads the training source from a checkpoint written by this
// command; it is nil when the checkpoint holds no run configuration.
func StoredSource(l *train.Loaded) (*TrainingSource, error) {
	stored, ok := l.Meta[train.MetaConfig]
	if !ok {
		return nil, nil
	}
	o := &options{}
	fs := newFlags(o)
	v, err := config.Parse(l.Path+" (stored config)", []byte(stored), fs, notInConfig...)
	if err != nil {
		return nil, err
	}
	if err := v.Apply(fs, map[string]bool{}); err != nil {
		return nil, err
	}
	comma, err := dataset.ParseDelimiter(o.delim)
	if err != nil {
		return nil, err
	}
	return &TrainingSource{Data: o.data, LabelColumn: o.label, Delimiter: comma, Missing: o.impute != "", ValFrac: o.valFrac, Seed: o.seed, Streamed: streams(o.data, o.stream)}, nil
}

// Load reads the source and returns the training split exactly as the run
// made it (before scaling). A streamed source is not loaded: it may not
// fit in memory.
func (s *TrainingSource) Load() (*dataset.Dataset, error) {
	if s.Streamed {
		return nil, fmt.Errorf("the run streamed the shards of %s, which are not loaded whole", s.Data)
	}
	splits, err := dataset.LoadWith(s.Data, dataset.LoadOptions{LabelColumn: s.LabelColumn, Delimiter: s.Delimiter, Missing: s.Missing})
	if err != nil {
		return nil, err
	}
	if s.ValFrac == 0 {
		return splits.Train, nil
	}
	tr, _, err := splits.Train.Split(s.ValFrac, s.Seed)
	return tr, err
}
