package train_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/train"
)

// batcherSource hands out batches the way Fit did before it took a
// BatchSource: Batcher.SetEpoch, then Batcher.Batch(i) for i from the
// resumed position.
type batcherSource struct {
	d *dataset.Dataset
	b *dataset.Batcher
	i int
}

func (s *batcherSource) Name() string         { return s.d.Name }
func (s *batcherSource) Shape() (c, h, w int) { return s.d.C, s.d.H, s.d.W }
func (s *batcherSource) Len() int             { return s.d.N }
func (s *batcherSource) BatchSize() int       { return s.b.BatchSize() }
func (s *batcherSource) NumBatches() int      { return s.b.NumFullBatches() }
func (s *batcherSource) StartEpoch(epoch, skip int) error {
	s.b.SetEpoch(epoch)
	s.i = skip
	return nil
}
func (s *batcherSource) Close() error { return nil }
func (s *batcherSource) Next(dst []float32) error {
	if s.i >= s.NumBatches() {
		return io.EOF
	}
	s.b.Batch(s.i, dst, nil)
	s.i++
	return nil
}

// TestFitEqualsTheBatcherLoop trains through Fit (a MemorySource) and
// through the Batcher-driven loop Fit used to run, and expects the same
// weights and losses bit for bit, for a plain and a noisy kind.
func TestFitEqualsTheBatcherLoop(t *testing.T) {
	tr, val := sample(t, 250)
	for _, kind := range []string{"basic", "denoising"} {
		t.Run(kind, func(t *testing.T) {
			cfg := train.Config{Epochs: 2, Batch: 20, LR: 3e-3, Seed: 3, ClipNorm: 5}
			viaFit := newModel(t, kind)
			want, err := train.Fit(context.Background(), viaFit, tr, val, cfg)
			require.NoError(t, err)
			b, err := dataset.NewBatcher(tr, cfg.Batch, true, cfg.Seed)
			require.NoError(t, err)
			old := newModel(t, kind)
			got, err := train.FitSource(context.Background(), old, &batcherSource{d: tr, b: b}, val, cfg)
			require.NoError(t, err)
			assert.Equal(t, weights(old), weights(viaFit))
			assert.Equal(t, losses(want.History), losses(got.History))
		})
	}
}

// writeShards writes d as n .npy shards part-NNN.npy in a new directory.
func writeShards(t *testing.T, d *dataset.Dataset, n int) string {
	t.Helper()
	dir := t.TempDir()
	per := (d.N + n - 1) / n
	for s := range n {
		lo, hi := s*per, min((s+1)*per, d.N)
		require.NoError(t, eval.WriteNPY(filepath.Join(dir, fmt.Sprintf("part-%03d.npy", s)), d.X[lo*d.Dim():hi*d.Dim()], []int{hi - lo, d.Dim()}))
	}
	return dir
}

// openStream opens the shards in dir with a buffer smaller than the data.
func openStream(t *testing.T, dir string, cfg train.Config) *dataset.Stream {
	t.Helper()
	s, err := dataset.OpenStream(dir, dataset.StreamOptions{BatchSize: cfg.Batch, Buffer: 60, Seed: cfg.Seed})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFitSourceStreamsDeterministically trains twice on the same shards
// through a buffer of 60 of their 200 samples and expects the same weights
// and losses, and a falling loss.
func TestFitSourceStreamsDeterministically(t *testing.T) {
	tr, val := sample(t, 250)
	dir := writeShards(t, tr, 4)
	cfg := train.Config{Epochs: 3, Batch: 20, LR: 3e-3, Seed: 7}
	first := newModel(t, "basic")
	want, err := train.FitSource(context.Background(), first, openStream(t, dir, cfg), val, cfg)
	require.NoError(t, err)
	again := newModel(t, "basic")
	got, err := train.FitSource(context.Background(), again, openStream(t, dir, cfg), val, cfg)
	require.NoError(t, err)
	assert.Equal(t, weights(first), weights(again))
	assert.Equal(t, losses(want.History), losses(got.History))
	assert.Less(t, want.History[2].TrainLoss, want.History[0].TrainLoss)

	// Streamed batches are not the in-memory order: the runs must differ,
	// or this test would pass with a source that ignored the stream.
	mem := newModel(t, "basic")
	_, err = train.Fit(context.Background(), mem, tr, val, cfg)
	require.NoError(t, err)
	assert.NotEqual(t, weights(first), weights(mem))
}

// TestFitSourceResumesAStreamMidEpoch stops a streamed run in its second
// epoch, resumes it on a freshly opened stream and expects the unbroken
// run's weights and losses.
func TestFitSourceResumesAStreamMidEpoch(t *testing.T) {
	tr, val := sample(t, 250)
	dir := writeShards(t, tr, 4)
	cfg := resumeConfigs()["adam+cosine"]
	cfg.Epochs = 3
	whole := newModel(t, "basic")
	want, err := train.FitSource(context.Background(), whole, openStream(t, dir, cfg), val, cfg)
	require.NoError(t, err)

	cfg.OutDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.AfterStep = func(_, step int) {
		if step == 13 {
			cancel()
		}
	}
	_, err = train.FitSource(ctx, newModel(t, "basic"), openStream(t, dir, cfg), val, cfg)
	require.ErrorIs(t, err, train.ErrInterrupted)
	loaded, err := train.LoadCheckpoint(filepath.Join(cfg.OutDir, train.LastName))
	require.NoError(t, err)
	require.Equal(t, 3, loaded.State.Pos, "stopped after the third step of epoch 2")
	cfg.AfterStep, cfg.Resume = nil, loaded
	got, err := train.FitSource(context.Background(), loaded.Model, openStream(t, dir, cfg), val, cfg)
	require.NoError(t, err)
	assert.Equal(t, weights(whole), weights(loaded.Model))
	assert.Equal(t, losses(want.History), losses(got.History))
}

// TestFitSourceStopsOnAShardDamagedDuringTheRun truncates a shard after
// the first epoch: the second fails naming the shard and the row, and the
// first epoch's checkpoint stays the run's last.
func TestFitSourceStopsOnAShardDamagedDuringTheRun(t *testing.T) {
	tr, val := sample(t, 250)
	dir := writeShards(t, tr, 4)
	bad := filepath.Join(dir, "part-002.npy")
	cfg := train.Config{Epochs: 3, Batch: 20, LR: 3e-3, Seed: 7, OutDir: t.TempDir()}
	cfg.AfterEpoch = func(es train.EpochStats) error {
		if es.Epoch == 1 {
			st, err := os.Stat(bad)
			require.NoError(t, err)
			// Cut the shard to its last 10 rows and a half: row 40 of 50 is truncated.
			require.NoError(t, os.Truncate(bad, st.Size()-int64(9*784*4+392*4)))
		}
		return nil
	}
	res, err := train.FitSource(context.Background(), newModel(t, "basic"), openStream(t, dir, cfg), val, cfg)
	require.Error(t, err)
	assert.Regexp(t, `^epoch 2 step \d+: training data: shard .*part-002\.npy: row 40: truncated: 1568 of 3136 bytes .*; the last good checkpoint is .*last\.safetensors$`, err.Error())
	last, lerr := train.LoadCheckpoint(filepath.Join(cfg.OutDir, train.LastName))
	require.NoError(t, lerr)
	assert.Equal(t, 1, last.State.Epoch)
	assert.Equal(t, 0, last.State.Pos)
	assert.NoFileExists(t, filepath.Join(cfg.OutDir, train.EpochName(2)))
	assert.Len(t, res.History, 1)
}
