// Package traincli is the train command (hourglass train, cmd/train): it
// trains an autoencoder and writes its checkpoint, metrics and a picture of
// reconstructions into a run directory.
//
//	hourglass train                       # deep autoencoder on the embedded sample
//	hourglass train -data fashion-mnist -epochs 20 -batch 256 -json
//	hourglass train -optimizer sgd -momentum 0.9 -schedule cosine -warmup 100 -early-stop 5
//	hourglass train -resume runs/deep-20250101-120000 -epochs 40   # continue a run to epoch 40
//	hourglass train -config runs/deep-20250101-120000/config.yaml  # repeat a run
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
var runFixed = []string{"data", "seed", "batch", "val-frac"}

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
	device  string
	config  string
	resume  string

	optim     train.OptimConfig
	sched     train.ScheduleConfig
	clipNorm  float64
	earlyStop int
	minDelta  float64
	saveEvery int
	keep      int

	dev      device.Device
	loaded   *train.Loaded // the checkpoint -resume names
	explicit map[string]bool
}

// help is the -h text; its groups follow the README's tables.
var help = cli.Help{
	Usage:   "hourglass train [flags]",
	Summary: "Trains an autoencoder and writes its checkpoints, metrics and a picture of\nreconstructions into a run directory, then prints the test error beside PCA's.",
	Groups: []cli.Group{
		{Title: "Model", Flags: []string{"model", "latent", "init", "recon-loss", "noise", "noise-std", "noise-frac", "sparsity-l1", "sparsity-rho", "sparsity-beta", "beta"}},
		{Title: "Data", Flags: []string{"data", "val-frac", "scale", "no-pca"}},
		{Title: "Training", Flags: []string{"epochs", "batch", "lr", "seed", "device", "optimizer", "beta1", "beta2", "eps", "alpha", "momentum", "nesterov", "weight-decay", "clip-norm"}},
		{Title: "Schedule and stopping", Flags: []string{"schedule", "step-epochs", "gamma", "min-lr", "warmup", "factor", "patience", "early-stop", "min-delta"}},
		{Title: "Run directory and output", Flags: []string{"out", "resume", "config", "save-every", "keep", "json"}},
	},
	Examples: []string{
		"hourglass train                                   # deep autoencoder on the embedded sample",
		"hourglass train -model vae -data fashion-mnist -epochs 10 -batch 128",
		"hourglass train -data table.csv -model deep -latent 4 -epochs 50",
		"hourglass train -resume runs/deep-20260101-120000 -epochs 40   # continue to epoch 40",
		"hourglass train -config runs/deep-20260101-120000/config.yaml  # repeat a run",
	},
}

func newFlags(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	o.spec = models.RegisterFlags(fs)
	fs.StringVar(&o.data, "data", "sample", "data: sample (embedded), fashion-mnist, mnist, a directory of IDX files or a .csv file")
	fs.IntVar(&o.epochs, "epochs", 20, "total number of epochs (with -resume: of the whole run)")
	fs.IntVar(&o.batch, "batch", 64, "batch size")
	fs.Float64Var(&o.lr, "lr", 1e-3, "base learning rate")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed (weights, split, shuffling, noise)")
	fs.StringVar(&o.out, "out", "", "run directory (default runs/<model>-<timestamp>)")
	fs.BoolVar(&o.json, "json", false, "print the final summary as one JSON object on stdout")
	fs.Float64Var(&o.valFrac, "val-frac", 0.1, "fraction of the training data held out for validation")
	fs.BoolVar(&o.noPCA, "no-pca", false, "skip the PCA baseline")
	fs.StringVar(&o.scale, "scale", "auto", "feature scaling fitted on the training split and stored in the checkpoint: minmax, standard, none, or auto (minmax for CSV, none for images)")
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
	fs.IntVar(&o.saveEvery, "save-every", 1, "write a checkpoint every this many epochs")
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

// loadError marks a checkpoint that could not be read: the work failed
// (exit 1), the flags were fine.
type loadError struct{ error }

func (e loadError) Unwrap() error { return e.error }

// newestEpoch is the newest epoch checkpoint in dir, or "".
func newestEpoch(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "epoch-*.safetensors"))
	if len(files) == 0 {
		return ""
	}
	slices.Sort(files) // zero-padded epoch numbers sort in order
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
	switch {
	case o.epochs < 0:
		return fmt.Errorf("-epochs %d: must be zero or more", o.epochs)
	case o.batch <= 0:
		return fmt.Errorf("-batch %d: must be positive", o.batch)
	case !(o.lr > 0) || math.IsInf(o.lr, 0):
		return fmt.Errorf("-lr %g: must be a positive number", o.lr)
	case !(o.valFrac > 0 && o.valFrac < 1):
		return fmt.Errorf("-val-frac %g: must be between 0 and 1", o.valFrac)
	case o.saveEvery < 1:
		return fmt.Errorf("-save-every %d: must be 1 or more", o.saveEvery)
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

// trainConfig is the train.Config the options describe, without data.
func (o *options) trainConfig() train.Config {
	sched := o.sched
	sched.MinDelta = o.minDelta
	return train.Config{
		Epochs: o.epochs, Batch: o.batch, LR: o.lr, Seed: o.seed, OutDir: o.out,
		Optim: o.optim, Schedule: sched, ClipNorm: o.clipNorm,
		EarlyStop: o.earlyStop, MinDelta: o.minDelta, SaveEvery: o.saveEvery, Keep: o.keep,
		Device: o.dev, Resume: o.loaded,
	}
}

// summary is the final report, printed as text or, with -json, as one object.
type summary struct {
	Model          string             `json:"model"`
	Data           string             `json:"data"`
	Epochs         int                `json:"epochs"`
	TrainLoss      float64            `json:"train_loss"`
	ValLoss        float64            `json:"val_loss"`
	TestLoss       float64            `json:"test_loss"`
	TestMSE        float64            `json:"test_mse"`
	TestPSNR       float64            `json:"test_psnr"`
	PCAMSE         *float64           `json:"pca_mse,omitempty"`
	Parts          map[string]float64 `json:"parts,omitempty"`
	Figures        map[string]float64 `json:"figures,omitempty"`
	EpochSeconds   []float64          `json:"epoch_seconds"`
	BestEpoch      int                `json:"best_epoch"`
	Stopped        string             `json:"stopped,omitempty"`
	Checkpoint     string             `json:"checkpoint"`
	BestCheckpoint string             `json:"best_checkpoint"`
	Picture        string             `json:"reconstructions"`
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

func trainAndReport(ctx context.Context, o *options, log io.Writer) (*summary, error) {
	splits, err := dataset.Load(o.data)
	if err != nil {
		return nil, err
	}
	trainSet, valSet, err := splits.Train.Split(o.valFrac, o.seed)
	if err != nil {
		return nil, err
	}
	test := splits.Test
	if test == nil {
		test = valSet
	}
	spec, err := o.spec.Spec([]int{trainSet.C, trainSet.H, trainSet.W}, o.seed)
	if err != nil {
		return nil, err
	}
	scaler, err := fitScaler(o, trainSet, valSet, test)
	if err != nil {
		return nil, err
	}
	// The lock is taken before anything is checked or written, so a second
	// training started into the same -out fails before touching anything.
	rd, err := train.OpenRunDir(o.out)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
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
	if err := train.CheckResume(cfg, m, trainSet); err != nil {
		return nil, fmt.Errorf("-resume: %w", err)
	}
	cfg.Run = rd
	header := "hourglass train configuration: repeat this run with  hourglass train -config " + filepath.Join(o.out, ConfigName)
	effective, err := config.Marshal(o.fs, header, notInConfig...)
	if err != nil {
		return nil, err
	}
	if err := config.WriteFile(filepath.Join(o.out, ConfigName), o.fs, header, notInConfig...); err != nil {
		return nil, err
	}
	verb := "training"
	if o.loaded != nil {
		verb = fmt.Sprintf("resuming from %s (epoch %d, step %d):", o.loaded.Path, o.loaded.State.Epoch, o.loaded.State.Step)
	}
	fmt.Fprintf(log, "%s %s (%d parameters) on %s: %d train, %d validation, %d test samples; run directory %s\n",
		verb, spec.Kind, m.Params().Count(), trainSet.Name, trainSet.N, valSet.N, test.N, o.out)
	bar := false
	if f, ok := log.(*os.File); ok {
		bar = term.IsTerminal(int(f.Fd()))
	}
	cfg.Progress = train.NewProgress(log, bar)
	cfg.Meta = map[string]string{train.MetaConfig: string(effective)}
	if scaler != nil {
		b, err := json.Marshal(scaler)
		if err != nil {
			return nil, fmt.Errorf("encoding the scaler: %w", err)
		}
		cfg.Meta[train.MetaScaler] = string(b)
	}
	res, err := train.Fit(ctx, m, trainSet, valSet, cfg)
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(log, "warning: %s\n", w)
	}
	if res.Stopped != "" {
		fmt.Fprintf(log, "%s\n", res.Stopped)
	}
	s := &summary{Model: spec.Kind, Data: o.data, Epochs: len(res.History), RunDir: o.out,
		Checkpoint: res.Checkpoint, BestCheckpoint: res.BestCheckpoint, BestEpoch: res.BestEpoch, Stopped: res.Stopped}
	for _, h := range res.History {
		s.EpochSeconds = append(s.EpochSeconds, h.Seconds)
	}
	if n := len(res.History); n > 0 {
		s.TrainLoss, s.ValLoss = res.History[n-1].TrainLoss, res.History[n-1].ValLoss
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
	s.TestPSNR = eval.MeanPSNR(test.X, recon, test.Dim(), 1)
	if !o.noPCA {
		pca, err := eval.FitPCA(trainSet.X, trainSet.N, trainSet.Dim(), min(spec.Latent, trainSet.N, trainSet.Dim()))
		if err != nil {
			return nil, fmt.Errorf("PCA baseline: %w", err)
		}
		v := eval.MSE(test.X, pca.Reconstruct(test.X, test.N))
		s.PCAMSE = &v
	}
	s.Picture = filepath.Join(o.out, "reconstructions.png")
	n := min(20, test.N)
	if err := eval.SaveReconstructionGrid(s.Picture, test.X[:n*test.Dim()], recon[:n*test.Dim()], n, test.C, test.H, test.W); err != nil {
		return nil, fmt.Errorf("writing reconstructions: %w", err)
	}
	return s, nil
}

func printSummary(w io.Writer, s *summary) {
	fmt.Fprintf(w, "\n%s autoencoder, %d epochs on %s\n", s.Model, s.Epochs, s.Data)
	fmt.Fprintf(w, "  test MSE   %.5f   (PSNR %.2f dB)\n", s.TestMSE, s.TestPSNR)
	if s.PCAMSE != nil {
		fmt.Fprintf(w, "  PCA MSE    %.5f   (same number of components, fitted on the same training data)\n", *s.PCAMSE)
	}
	fmt.Fprintf(w, "  test loss  %.5f\n", s.TestLoss)
	for _, k := range slices.Sorted(maps.Keys(s.Parts)) {
		fmt.Fprintf(w, "  %-10s %.5f\n", k, s.Parts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Figures)) {
		fmt.Fprintf(w, "  %-20s %.5f\n", k, s.Figures[k])
	}
	if s.Checkpoint == "" {
		fmt.Fprintf(w, "  checkpoint none (no epoch was trained)\n")
	} else {
		fmt.Fprintf(w, "  checkpoint %s (best validation: %s)\n", s.Checkpoint, s.BestCheckpoint)
	}
	if s.Stopped != "" {
		fmt.Fprintf(w, "  stopped    %s\n", s.Stopped)
	}
	fmt.Fprintf(w, "  picture    %s\n", s.Picture)
}

// fitScaler fits the -scale scaler on the training split and applies it to
// every split, so that the model and cmd/eval see the same features.
func fitScaler(o *options, sets ...*dataset.Dataset) (*dataset.Scaler, error) {
	kind := o.scale
	if kind == "auto" {
		kind = "none"
		if strings.EqualFold(filepath.Ext(o.data), ".csv") {
			kind = "minmax"
		}
	}
	if kind == "none" {
		return nil, nil
	}
	sc, err := dataset.FitScaler(kind, sets[0])
	if err != nil {
		return nil, fmt.Errorf("-scale: %w", err)
	}
	seen := map[*dataset.Dataset]bool{}
	for _, d := range sets {
		if d == nil || seen[d] {
			continue
		}
		seen[d] = true
		if err := sc.Apply(d); err != nil {
			return nil, fmt.Errorf("-scale: %w", err)
		}
	}
	return sc, nil
}
