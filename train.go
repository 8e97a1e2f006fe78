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
	// Buffer is TrainShards's shuffle buffer in samples (default 10000):
	// its memory bound. Train ignores it.
	Buffer int
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
	if c.Buffer == 0 {
		c.Buffer = 10000
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
	scale := cfg.scaleFor(data.H)
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
	mm, tc, err := newRun(cfg, []int{data.C, data.H, data.W}, trainSet.N, meta)
	if err != nil {
		return nil, nil, err
	}
	res, err := train.Fit(ctx, mm, trainSet, valSet, tc)
	if err != nil {
		return nil, nil, err
	}
	return finish(cfg, res, newModel(mm, sc, meta), rawTrain)
}

// TrainShards trains on data larger than memory. source names shards — a
// directory or glob of .csv, .npy or IDX files, or one .npy (see
// dataset.OpenStream) — read each epoch through a shuffle buffer of
// cfg.Buffer samples, so memory is bounded by the buffer, not the data; the
// same seed gives the same run. val, in memory, is the validation set (a
// held-out shard read with dataset.ReadShard, say); cfg.ValFrac is unused.
// The scaler is fitted in one pass over the shards (two for standard), and
// the anomaly threshold on a seeded uniform sample of 10,000 training rows.
// A bad shard fails naming the shard and the row, before training when it
// is bad from the start.
func TrainShards(ctx context.Context, source string, val *Dataset, cfg Config) (*Model, *History, error) {
	cfg = cfg.withDefaults()
	if val == nil {
		return nil, nil, errors.New("train: no validation data: give a held-out shard (dataset.ReadShard) as val")
	}
	if err := val.Validate(); err != nil {
		return nil, nil, fmt.Errorf("train: validation data: %w", err)
	}
	st, err := dataset.OpenStream(source, dataset.StreamOptions{BatchSize: cfg.Batch, Buffer: cfg.Buffer, Seed: cfg.Seed})
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	defer st.Close()
	c, h, w := st.Shape()
	valSet := val.Head(val.N) // a copy: val stays as given
	scale := cfg.scaleFor(h)
	var sc *dataset.Scaler
	var src dataset.BatchSource = st
	meta := map[string]string{}
	if scale != "none" {
		if sc, err = dataset.FitScalerStream(scale, st); err != nil {
			return nil, nil, fmt.Errorf("train: %w", err)
		}
		if err := sc.Apply(valSet); err != nil {
			return nil, nil, fmt.Errorf("train: validation data: %w", err)
		}
		if meta[train.MetaScaler], err = train.EncodeMeta(sc); err != nil {
			return nil, nil, err
		}
		src = dataset.Scaled(st, sc)
	}
	mm, tc, err := newRun(cfg, []int{c, h, w}, st.Len(), meta)
	if err != nil {
		return nil, nil, err
	}
	res, err := train.FitSource(ctx, mm, src, valSet, tc)
	if err != nil {
		return nil, nil, err
	}
	sample, err := dataset.SampleStream(st, 10000, cfg.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	return finish(cfg, res, newModel(mm, sc, meta), sample.X)
}

// scaleFor is the scaling to fit for samples of height h: cfg.Scale, or by
// default none for pictures (h > 1) and minmax for table rows.
func (c Config) scaleFor(h int) string {
	switch {
	case c.Scale != "":
		return c.Scale
	case h > 1:
		return "none"
	}
	return "minmax"
}

// newRun builds the model cfg describes for rows training samples of
// shape (C, H, W) and the loop's configuration.
func newRun(cfg Config, shape []int, rows int, meta map[string]string) (models.Model, train.Config, error) {
	spec, err := models.DefaultSpec(cfg.Kind, shape, cfg.Latent)
	if err != nil {
		return nil, train.Config{}, fmt.Errorf("train: %w", err)
	}
	switch {
	case len(cfg.Hidden) > 0:
		spec.Hidden = append([]int(nil), cfg.Hidden...)
	case models.IsTabular(shape):
		// Table rows get a network sized for their width, as the train
		// command sizes it: the kinds' defaults are for 784 pixels.
		spec.Hidden, spec.Latent = models.TabularShape(cfg.Kind, spec.InputDim(), rows, cfg.Latent)
	}
	spec.InitSeed = cfg.Seed
	if err := spec.Validate(); err != nil {
		return nil, train.Config{}, fmt.Errorf("train: %w", err)
	}
	mm, err := models.New(spec)
	if err != nil {
		return nil, train.Config{}, fmt.Errorf("train: %w", err)
	}
	tc := train.Config{Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.LR, Seed: cfg.Seed, OutDir: cfg.OutDir, Meta: meta, InitFromData: true}
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
	return mm, tc, nil
}

// finish fits the trained model's threshold on raw training rows, saves it
// into cfg.OutDir when set, and returns it with the run's history.
func finish(cfg Config, res *train.Result, m *Model, raw []float32) (*Model, *History, error) {
	h := &History{Epochs: res.History, BestEpoch: res.BestEpoch, Stopped: res.Stopped}
	if err := m.FitThreshold(raw, cfg.Percentile); err != nil {
		return nil, nil, fmt.Errorf("train: fitting the anomaly threshold: %w", err)
	}
	if cfg.OutDir != "" {
		if err := m.Save(filepath.Join(cfg.OutDir, ModelFile)); err != nil {
			return nil, nil, err
		}
	}
	return m, h, nil
}
