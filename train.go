package hourglass

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// Config says what to train and how. The zero value trains the deep
// autoencoder for 20 epochs of batch 64 with Adam at 1e-3, holding out a
// tenth of the data for validation.
type Config struct {
	// Kind is the model kind: basic, deep (default), denoising, sparse,
	// conv, vae, convvae.
	Kind string
	// Latent is the code size; 0 is the kind's default.
	Latent int
	// Hidden overrides the dense kinds' hidden layer widths (encoder
	// side; the decoder mirrors them).
	Hidden []int
	// Epochs (default 20), Batch (default 64) and LR (default 1e-3).
	Epochs, Batch int
	LR            float64
	// Seed fixes weights, split, batch order and noise (default 1).
	Seed uint64
	// ValFrac is the share of data held out for validation (default 0.1).
	ValFrac float64
	// Scale is the feature scaling fitted on the training split: minmax,
	// standard or none; "" is none for images (H > 1) and minmax for
	// tables.
	Scale string
	// Percentile of the training scores at which the anomaly threshold is
	// set after training (default 99).
	Percentile float64
	// OutDir, when set, receives checkpoints and metrics as the train
	// command writes them, and model.safetensors (weights, scaler and
	// threshold) at the end.
	OutDir string
	// Progress, when set, receives a line per epoch.
	Progress io.Writer
	// Callbacks are called after every epoch, in order, with its figures;
	// returning ErrStop ends training after that epoch (like Keras's
	// model.stop_training), any other error aborts it.
	Callbacks []Callback
}

// Epoch is one epoch's figures, as a callback receives them.
type Epoch = train.EpochStats

// Callback is called after every epoch.
type Callback func(Epoch) error

// ErrStop, returned by a Callback, stops training after the current epoch.
var ErrStop = train.ErrStop

// History is what training recorded (Keras's History): one entry per epoch.
type History struct {
	Epochs []Epoch
	// BestEpoch has the lowest validation loss.
	BestEpoch int
	// Stopped says why training ended early, if it did.
	Stopped string
}

// ModelFile is the file Train writes into Config.OutDir for inference.
const ModelFile = "model.safetensors"

func (c Config) withDefaults() Config {
	if c.Kind == "" {
		c.Kind = "deep"
	}
	if c.Epochs == 0 {
		c.Epochs = 20
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.ValFrac == 0 {
		c.ValFrac = 0.1
	}
	if c.Percentile == 0 {
		c.Percentile = 99
	}
	return c
}

// Train trains a model on data (which it does not modify) and fits its
// anomaly threshold on the training split. Cancelling ctx stops training
// after the current step; with an OutDir a checkpoint to resume from is
// saved first, and the error wraps train.ErrInterrupted.
func Train(ctx context.Context, data *Dataset, cfg Config) (*Model, *History, error) {
	cfg = cfg.withDefaults()
	if data == nil {
		return nil, nil, errors.New("train: no data")
	}
	if err := data.Validate(); err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	if !(cfg.ValFrac > 0 && cfg.ValFrac < 1) {
		return nil, nil, fmt.Errorf("train: validation fraction %g must be in (0, 1)", cfg.ValFrac)
	}
	trainSet, valSet, err := data.Split(cfg.ValFrac, cfg.Seed) // copies: data stays as given
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	// The threshold is fitted after training through the model's own
	// scaling, so it needs the training rows as they came.
	rawTrain := append([]float32(nil), trainSet.X...)
	scale := cfg.Scale
	if scale == "" {
		scale = "minmax"
		if data.H > 1 {
			scale = "none"
		}
	}
	var sc *dataset.Scaler
	meta := map[string]string{}
	if scale != "none" {
		if sc, err = dataset.FitScaler(scale, trainSet); err != nil {
			return nil, nil, fmt.Errorf("train: %w", err)
		}
		for _, d := range []*dataset.Dataset{trainSet, valSet} {
			if err := sc.Apply(d); err != nil {
				return nil, nil, fmt.Errorf("train: %w", err)
			}
		}
		if meta[train.MetaScaler], err = train.EncodeMeta(sc); err != nil {
			return nil, nil, err
		}
	}
	spec, err := models.DefaultSpec(cfg.Kind, []int{data.C, data.H, data.W}, cfg.Latent)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	if len(cfg.Hidden) > 0 {
		spec.Hidden = append([]int(nil), cfg.Hidden...)
	}
	spec.InitSeed = cfg.Seed
	if err := spec.Validate(); err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	mm, err := models.New(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	tc := train.Config{Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.LR, Seed: cfg.Seed, OutDir: cfg.OutDir, Meta: meta}
	if cfg.Progress != nil {
		tc.Progress = train.NewProgress(cfg.Progress, false)
	}
	if len(cfg.Callbacks) > 0 {
		tc.AfterEpoch = func(e train.EpochStats) error {
			for _, cb := range cfg.Callbacks {
				if err := cb(e); err != nil {
					return err
				}
			}
			return nil
		}
	}
	res, err := train.Fit(ctx, mm, trainSet, valSet, tc)
	if err != nil {
		return nil, nil, err
	}
	h := &History{Epochs: res.History, BestEpoch: res.BestEpoch, Stopped: res.Stopped}
	m := newModel(mm, sc, meta)
	if err := m.FitThreshold(rawTrain, cfg.Percentile); err != nil {
		return nil, nil, fmt.Errorf("train: fitting the anomaly threshold: %w", err)
	}
	if cfg.OutDir != "" {
		if err := m.Save(filepath.Join(cfg.OutDir, ModelFile)); err != nil {
			return nil, nil, err
		}
	}
	return m, h, nil
}
