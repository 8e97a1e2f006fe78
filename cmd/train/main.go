// Command train trains an autoencoder and writes its checkpoint, metrics and
// a picture of reconstructions into a run directory.
//
//	go run ./cmd/train                       # deep autoencoder on the embedded sample
//	go run ./cmd/train -data fashion-mnist -epochs 20 -batch 256 -json
package main

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
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
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
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.spec = models.RegisterFlags(fs)
	fs.StringVar(&o.data, "data", "sample", "data: sample (embedded), fashion-mnist, mnist, a directory of IDX files or a .csv file")
	fs.IntVar(&o.epochs, "epochs", 20, "number of epochs")
	fs.IntVar(&o.batch, "batch", 64, "batch size")
	fs.Float64Var(&o.lr, "lr", 1e-3, "learning rate")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed (weights, shuffling, noise)")
	fs.StringVar(&o.out, "out", "", "run directory (default runs/<model>-<timestamp>)")
	fs.BoolVar(&o.json, "json", false, "print the final summary as one JSON object on stdout")
	fs.Float64Var(&o.valFrac, "val-frac", 0.1, "fraction of the training data held out for validation")
	fs.BoolVar(&o.noPCA, "no-pca", false, "skip the PCA baseline")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: flags only (see -h)", fs.Arg(0))
	}
	if err := o.spec.Check(); err != nil {
		return nil, err
	}
	switch {
	case o.epochs < 0:
		return nil, fmt.Errorf("-epochs %d: must be zero or more", o.epochs)
	case o.batch <= 0:
		return nil, fmt.Errorf("-batch %d: must be positive", o.batch)
	case !(o.lr > 0):
		return nil, fmt.Errorf("-lr %g: must be positive", o.lr)
	case !(o.valFrac > 0 && o.valFrac < 1):
		return nil, fmt.Errorf("-val-frac %g: must be between 0 and 1", o.valFrac)
	}
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("%s-%s", o.spec.Kind, time.Now().Format("20060102-150405")))
	}
	return o, nil
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
	EpochSeconds   []float64          `json:"epoch_seconds"`
	Checkpoint     string             `json:"checkpoint"`
	BestCheckpoint string             `json:"best_checkpoint"`
	Picture        string             `json:"reconstructions"`
	RunDir         string             `json:"run_dir"`
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := trainAndReport(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(s); err != nil {
			fmt.Fprintf(stderr, "train: %v\n", err)
			return 1
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
	m, err := models.New(spec)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "training %s (%d parameters) on %s: %d train, %d validation, %d test samples; run directory %s\n",
		spec.Kind, m.Params().Count(), trainSet.Name, trainSet.N, valSet.N, test.N, o.out)
	bar := false
	if f, ok := log.(*os.File); ok {
		bar = term.IsTerminal(int(f.Fd()))
	}
	res, err := train.Fit(ctx, m, trainSet, valSet, train.Config{
		Epochs: o.epochs, Batch: o.batch, LR: o.lr, Seed: o.seed, OutDir: o.out,
		Progress: train.NewProgress(log, bar),
	})
	if err != nil {
		return nil, err
	}
	s := &summary{Model: spec.Kind, Data: o.data, Epochs: len(res.History), RunDir: o.out,
		Checkpoint: res.Checkpoint, BestCheckpoint: res.BestCheckpoint}
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
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, fmt.Errorf("creating run directory: %w", err)
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
	for k, v := range s.Parts {
		fmt.Fprintf(w, "  %-10s %.5f\n", k, v)
	}
	if s.Checkpoint == "" {
		fmt.Fprintf(w, "  checkpoint none (no epoch was trained)\n")
	} else {
		fmt.Fprintf(w, "  checkpoint %s (best validation: %s)\n", s.Checkpoint, s.BestCheckpoint)
	}
	fmt.Fprintf(w, "  picture    %s\n", s.Picture)
}
