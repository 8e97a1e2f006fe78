package train_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

func sample(t *testing.T, n int) (*dataset.Dataset, *dataset.Dataset) {
	t.Helper()
	s, err := dataset.Load("sample")
	require.NoError(t, err)
	tr, val, err := s.Train.Head(n).Split(0.2, 1)
	require.NoError(t, err)
	return tr, val
}

func newModel(t *testing.T, kind string) models.Model {
	t.Helper()
	spec, err := models.DefaultSpec(kind, []int{1, 28, 28}, 0)
	require.NoError(t, err)
	m, err := models.New(spec)
	require.NoError(t, err)
	return m
}

func TestFitLossFalls(t *testing.T) {
	for _, kind := range models.Kinds() {
		t.Run(kind, func(t *testing.T) {
			// Small enough that the convolutional kinds stay quick: this
			// checks that the loop trains every kind, not how well.
			tr, val := sample(t, 150)
			m := newModel(t, kind)
			before, _, err := train.Evaluate(m, val, 64, 1)
			require.NoError(t, err)
			dir := t.TempDir()
			res, err := train.Fit(context.Background(), m, tr, val, train.Config{Epochs: 3, Batch: 12, LR: 3e-3, Seed: 1, OutDir: dir})
			require.NoError(t, err)
			require.Len(t, res.History, 3)
			assert.Less(t, res.History[2].ValLoss, 0.8*before, "validation loss %v → %v", before, res.History[2].ValLoss)
			assert.Less(t, res.History[2].TrainLoss, res.History[0].TrainLoss)
			for _, f := range []string{"metrics.jsonl", train.LastName, train.BestName} {
				assert.FileExists(t, filepath.Join(dir, f))
			}
			lines, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
			require.NoError(t, err)
			assert.Equal(t, 3, len(splitLines(lines)))
		})
	}
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

func TestCheckpointRoundTripIsExact(t *testing.T) {
	tr, val := sample(t, 500)
	m := newModel(t, "deep")
	dir := t.TempDir()
	res, err := train.Fit(context.Background(), m, tr, val, train.Config{Epochs: 1, Batch: 50, LR: 1e-3, Seed: 3, OutDir: dir})
	require.NoError(t, err)
	loaded, err := train.LoadCheckpoint(res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, m.Spec(), loaded.Model.Spec())
	assert.Equal(t, 1, loaded.State.Epoch)
	assert.Equal(t, "adam", loaded.State.Optimizer)
	a, err := models.Reconstruct(m, val.X, val.N)
	require.NoError(t, err)
	b, err := models.Reconstruct(loaded.Model, val.X, val.N)
	require.NoError(t, err)
	assert.Equal(t, a, b, "reconstructions after reload must be bitwise identical")
}

func TestLoadCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := train.LoadCheckpoint(filepath.Join(dir, "missing.safetensors"))
	assert.Error(t, err)
	junk := filepath.Join(dir, "junk.safetensors")
	require.NoError(t, os.WriteFile(junk, []byte("not a checkpoint at all"), 0o644))
	_, err = train.LoadCheckpoint(junk)
	assert.ErrorContains(t, err, junk)
}

func TestFitRejectsBadConfig(t *testing.T) {
	tr, val := sample(t, 100)
	m := newModel(t, "basic")
	for _, tc := range []struct {
		cfg  train.Config
		want string
	}{
		{train.Config{Epochs: 1, Batch: 0, LR: 1e-3}, "batch size 0"},
		{train.Config{Epochs: -1, Batch: 8, LR: 1e-3}, "epochs -1"},
		{train.Config{Epochs: 1, Batch: 8, LR: -1}, "learning rate"},
		{train.Config{Epochs: 1, Batch: 1000, LR: 1e-3}, "larger than the 80 training samples"},
	} {
		_, err := train.Fit(context.Background(), m, tr, val, tc.cfg)
		assert.ErrorContains(t, err, tc.want)
	}
}
