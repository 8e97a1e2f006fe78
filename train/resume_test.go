package train_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// weights copies every parameter of m, by name.
func weights(m models.Model) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range m.Params().List() {
		out[p.Name] = append([]float32(nil), p.Data()...)
	}
	return out
}

// losses strips the wall-clock seconds from a history.
func losses(h []train.EpochStats) []train.EpochStats {
	out := make([]train.EpochStats, len(h))
	for i, s := range h {
		s.Seconds = 0
		out[i] = s
	}
	return out
}

// resumeConfigs are the runs the bitwise-resume test replays: each
// optimizer with a schedule and early stopping configured.
func resumeConfigs() map[string]train.Config {
	base := train.Config{Epochs: 4, Batch: 20, LR: 3e-3, Seed: 7, EarlyStop: 2, MinDelta: 1e-4, ClipNorm: 5}
	adam := base
	adam.Schedule = train.ScheduleConfig{Name: "cosine", Warmup: 5, MinLR: 1e-4}
	sgd := base
	sgd.LR = 0.5
	sgd.Optim = train.OptimConfig{Name: "sgd", Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4}
	sgd.Schedule = train.ScheduleConfig{Name: "step", StepEpochs: 2, Gamma: 0.5}
	plateau := base
	plateau.Optim = train.OptimConfig{Name: "rmsprop", Momentum: 0.5}
	plateau.Schedule = train.ScheduleConfig{Name: "plateau", Patience: 1, Factor: 0.5, MinDelta: 0.05}
	plateau.EarlyStop = 0
	return map[string]train.Config{"adam+cosine": adam, "sgd+step": sgd, "rmsprop+plateau": plateau}
}

// TestResumeIsBitwise stops a 4-epoch run in its second epoch (as SIGINT
// does) and at the end of it, resumes each from its checkpoint and expects
// the weights and the loss curve of the unbroken run, bit for bit.
func TestResumeIsBitwise(t *testing.T) {
	tr, val := sample(t, 250) // 200 train: 10 steps per epoch
	for name, cfg := range resumeConfigs() {
		t.Run(name, func(t *testing.T) {
			whole := newModel(t, "basic")
			cfg := cfg
			cfg.OutDir = t.TempDir()
			want, err := train.Fit(context.Background(), whole, tr, val, cfg)
			require.NoError(t, err)
			require.Len(t, want.History, 4)
			for _, stopAt := range []int{14, 20} { // mid-epoch 2, end of epoch 2
				cfg.OutDir = t.TempDir()
				ctx, cancel := context.WithCancel(context.Background())
				cfg.AfterStep = func(_, step int) {
					if step == stopAt {
						cancel()
					}
				}
				_, err := train.Fit(ctx, newModel(t, "basic"), tr, val, cfg)
				cancel()
				require.ErrorIs(t, err, train.ErrInterrupted)
				require.ErrorIs(t, err, context.Canceled)
				assert.Regexp(t, `in epoch 2 after step 14|after epoch 2 \(step 20\)`, err.Error())

				loaded, err := train.LoadCheckpoint(filepath.Join(cfg.OutDir, train.LastName))
				require.NoError(t, err)
				assert.Equal(t, stopAt, loaded.State.Step)
				cfg.AfterStep, cfg.Resume = nil, loaded
				got, err := train.Fit(context.Background(), loaded.Model, tr, val, cfg)
				require.NoError(t, err)
				cfg.Resume = nil
				assert.Equal(t, weights(whole), weights(loaded.Model), "stopped after step %d: weights differ from the unbroken run", stopAt)
				assert.Equal(t, losses(want.History), losses(got.History), "stopped after step %d", stopAt)
			}
		})
	}
}

// TestResumeExtendsRun takes a finished 2-epoch run to 4 epochs: -epochs
// is the total, and schedules that do not depend on the run's length give
// the unbroken 4-epoch run.
func TestResumeExtendsRun(t *testing.T) {
	tr, val := sample(t, 250)
	cfg := resumeConfigs()["sgd+step"]
	whole := newModel(t, "basic")
	want, err := train.Fit(context.Background(), whole, tr, val, cfg)
	require.NoError(t, err)

	cfg.OutDir = t.TempDir()
	cfg.Epochs = 2
	_, err = train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg)
	require.NoError(t, err)
	loaded, err := train.LoadCheckpoint(filepath.Join(cfg.OutDir, train.LastName))
	require.NoError(t, err)
	cfg.Epochs, cfg.Resume = 4, loaded
	got, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg) // weights come from the checkpoint
	require.NoError(t, err)
	assert.Equal(t, losses(want.History), losses(got.History))
	last, err := train.LoadCheckpoint(got.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, weights(whole), weights(last.Model))
	lines, err := os.ReadFile(filepath.Join(cfg.OutDir, train.MetricsJSONL))
	require.NoError(t, err)
	assert.Len(t, splitLines(lines), 4)

	// Asking for fewer epochs than the checkpoint has is an error.
	cfg.Epochs, cfg.Resume = 3, last
	_, err = train.Fit(context.Background(), last.Model, tr, val, cfg)
	assert.ErrorContains(t, err, "already at epoch 4")
}

func TestSameSeedSameCurve(t *testing.T) {
	tr, val := sample(t, 250)
	cfg := train.Config{Epochs: 3, Batch: 25, LR: 1e-3, Seed: 5, Schedule: train.ScheduleConfig{Name: "cosine", Warmup: 3}}
	a, err := train.Fit(context.Background(), newModel(t, "deep"), tr, val, cfg)
	require.NoError(t, err)
	b, err := train.Fit(context.Background(), newModel(t, "deep"), tr, val, cfg)
	require.NoError(t, err)
	assert.Equal(t, losses(a.History), losses(b.History))
	cfg.Seed = 6
	c, err := train.Fit(context.Background(), newModel(t, "deep"), tr, val, cfg)
	require.NoError(t, err)
	assert.NotEqual(t, losses(a.History), losses(c.History), "another seed must give another curve")
}

// snapshot reads every file of dir, to show that a failed resume changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func TestResumeRejectsForeignRuns(t *testing.T) {
	tr, val := sample(t, 250)
	dir := t.TempDir()
	cfg := train.Config{Epochs: 1, Batch: 20, LR: 1e-3, Seed: 7, OutDir: dir}
	_, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg)
	require.NoError(t, err)
	before := snapshot(t, dir)
	loaded, err := train.LoadCheckpoint(filepath.Join(dir, train.LastName))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		model  string
		change func(*train.Config)
		want   string
	}{
		{"other model", "deep", nil, "holds a model with spec"},
		{"other seed", "basic", func(c *train.Config) { c.Seed = 8 }, "seed 7, not 8"},
		{"other batch", "basic", func(c *train.Config) { c.Batch = 10 }, "batch size 20, not 10"},
		{"other optimizer", "basic", func(c *train.Config) { c.Optim.Name = "sgd" }, "adam optimizer, not sgd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Epochs, c.Resume = 3, loaded
			if tc.change != nil {
				tc.change(&c)
			}
			_, err := train.Fit(context.Background(), newModel(t, tc.model), tr, val, c)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, filepath.Join(dir, train.LastName))
			assert.Equal(t, before, snapshot(t, dir), "a refused resume must leave the run untouched")
		})
	}
}

// TestNonFiniteLossKeepsLastCheckpoint resumes a healthy run with a NaN
// planted in one weight (as a diverged step would leave it): the run must stop
// naming epoch and step, and the last checkpoint must still hold the healthy
// weights.
func TestNonFiniteLossKeepsLastCheckpoint(t *testing.T) {
	tr, val := sample(t, 250)
	dir := t.TempDir()
	cfg := train.Config{Epochs: 1, Batch: 20, LR: 0.1, Seed: 7, OutDir: dir, Optim: train.OptimConfig{Name: "sgd"}}
	m := newModel(t, "basic")
	_, err := train.Fit(context.Background(), m, tr, val, cfg)
	require.NoError(t, err)
	good := weights(m)
	last := filepath.Join(dir, train.LastName)
	loaded, err := train.LoadCheckpoint(last)
	require.NoError(t, err)
	cfg.Epochs, cfg.Resume = 3, loaded
	loaded.Model.Params().List()[0].Data()[0] = float32(math.NaN())
	_, err = train.Fit(context.Background(), loaded.Model, tr, val, cfg)
	require.ErrorIs(t, err, train.ErrNonFinite)
	// Either the loss turns NaN within epoch 2, or the NaN weight is caught
	// before epoch 2's checkpoint would be written.
	assert.Regexp(t, `epoch 2 step [0-9]+: `, err.Error())
	assert.ErrorContains(t, err, "lower the learning rate")
	assert.ErrorContains(t, err, last)
	again, err := train.LoadCheckpoint(last)
	require.NoError(t, err)
	assert.Equal(t, good, weights(again.Model))
	assert.Equal(t, 1, again.State.Epoch)
}

func TestEarlyStoppingKeepsBest(t *testing.T) {
	tr, val := sample(t, 250)
	dir := t.TempDir()
	// A min delta no epoch can beat: only the first epoch counts as an
	// improvement, and the run stops two epochs later.
	cfg := train.Config{Epochs: 10, Batch: 20, LR: 1e-3, Seed: 7, OutDir: dir, EarlyStop: 2, MinDelta: 10}
	res, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg)
	require.NoError(t, err)
	assert.Len(t, res.History, 3)
	assert.Contains(t, res.Stopped, "early stopping")
	assert.Equal(t, 1, res.BestEpoch)
	best, err := train.LoadCheckpoint(res.BestCheckpoint)
	require.NoError(t, err)
	assert.Equal(t, 1, best.State.Epoch)
	last, err := train.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, 3, last.State.Epoch)
	// Resuming a stopped run has nothing left to do.
	cfg.Resume = last
	again, err := train.Fit(context.Background(), last.Model, tr, val, cfg)
	require.NoError(t, err)
	assert.Len(t, again.History, 3)
	assert.Equal(t, res.Stopped, again.Stopped)
}

func TestRunDirectoryFiles(t *testing.T) {
	tr, val := sample(t, 250)
	dir := t.TempDir()
	cfg := train.Config{Epochs: 4, Batch: 20, LR: 1e-3, Seed: 7, OutDir: dir, Keep: 2,
		Schedule: train.ScheduleConfig{Name: "exponential", Gamma: 0.5}}
	res, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg)
	require.NoError(t, err)
	for _, f := range []string{train.EpochName(3), train.EpochName(4), train.LastName, train.BestName,
		train.MetricsJSONL, train.MetricsCSV, train.LossPlot} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.NoFileExists(t, filepath.Join(dir, train.EpochName(2)), "-keep 2 prunes older epochs")
	for i, h := range res.History {
		assert.InDelta(t, 1e-3/float64(int(1)<<i), h.LR, 1e-15, "epoch %d lr", i+1)
	}
	lines, err := os.ReadFile(filepath.Join(dir, train.MetricsJSONL))
	require.NoError(t, err)
	first := splitLines(lines)[0]
	assert.Regexp(t, `^\{"epoch":1,"step":10,"lr":0\.001,"train_loss":[0-9.e-]+,"val_loss":[0-9.e-]+,"seconds":[0-9.e-]+\}$`, first)
	csv, err := os.ReadFile(filepath.Join(dir, train.MetricsCSV))
	require.NoError(t, err)
	rows := splitLines(csv)
	require.Len(t, rows, 5)
	assert.Equal(t, "epoch,step,lr,train_loss,val_loss,seconds", rows[0])
	assert.Regexp(t, `^4,40,0\.000125,`, rows[4])
}

func TestSaveEvery(t *testing.T) {
	tr, val := sample(t, 250)
	dir := t.TempDir()
	cfg := train.Config{Epochs: 3, Batch: 20, LR: 1e-3, Seed: 7, OutDir: dir, SaveEvery: 2}
	_, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg)
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(dir, train.EpochName(1)))
	assert.FileExists(t, filepath.Join(dir, train.EpochName(2)))
	assert.FileExists(t, filepath.Join(dir, train.EpochName(3)), "the last epoch is always saved")
}

func TestFitNeedsValidationFor(t *testing.T) {
	tr, _ := sample(t, 100)
	m := newModel(t, "basic")
	_, err := train.Fit(context.Background(), m, tr, nil, train.Config{Epochs: 1, Batch: 8, LR: 1e-3, EarlyStop: 2})
	assert.ErrorContains(t, err, "early stopping needs a validation set")
	_, err = train.Fit(context.Background(), m, tr, nil, train.Config{Epochs: 1, Batch: 8, LR: 1e-3, Schedule: train.ScheduleConfig{Name: "plateau"}})
	assert.ErrorContains(t, err, "plateau schedule needs a validation set")
	// Without validation a run still trains and checkpoints.
	res, err := train.Fit(context.Background(), m, tr, nil, train.Config{Epochs: 1, Batch: 8, LR: 1e-3, OutDir: t.TempDir()})
	require.NoError(t, err)
	_, err = train.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	assert.True(t, errors.Is(err, nil))
}
