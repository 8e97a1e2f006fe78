package train_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/train"
)

func TestRunDirLockAndSweep(t *testing.T) {
	dir := t.TempDir()
	orphans := []string{".last.safetensors.tmp-123", ".best.safetensors.tmp-9", "config.yaml.tmp"}
	for _, n := range orphans {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("half"), 0o644))
	}
	keep := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(keep, []byte("mine"), 0o644))

	a, err := train.OpenRunDir(dir)
	require.NoError(t, err)
	for _, n := range orphans {
		assert.NoFileExists(t, filepath.Join(dir, n), "orphaned temporary files are swept")
	}
	assert.FileExists(t, keep, "other files stay")

	_, err = train.OpenRunDir(dir)
	require.ErrorIs(t, err, train.ErrRunDirBusy, "a second process cannot train into a locked directory")
	assert.ErrorContains(t, err, "choose another -out")

	require.NoError(t, a.Close())
	b, err := train.OpenRunDir(dir)
	require.NoError(t, err, "the lock is released on Close")
	require.NoError(t, b.Close())
}

func TestRunDirRefusesForeignAndSecondRuns(t *testing.T) {
	tr, val := sample(t, 250)
	cfg := train.Config{Epochs: 1, Batch: 20, LR: 1e-3, Seed: 7}
	mine, other := cfg, cfg
	mine.OutDir, other.OutDir = t.TempDir(), t.TempDir()
	_, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, mine)
	require.NoError(t, err)
	_, err = train.Fit(context.Background(), newModel(t, "basic"), tr, val, other)
	require.NoError(t, err)

	// A fresh run into a directory that holds one is refused.
	_, err = train.Fit(context.Background(), newModel(t, "basic"), tr, val, mine)
	assert.ErrorContains(t, err, "already holds a run")

	// A checkpoint copied in from the other run is refused, and nothing of
	// this run changes.
	before := snapshot(t, mine.OutDir)
	foreign, err := train.LoadCheckpoint(filepath.Join(other.OutDir, train.LastName))
	require.NoError(t, err)
	require.NotEmpty(t, foreign.State.RunID)
	resume := mine
	resume.Epochs, resume.Resume = 2, foreign
	_, err = train.Fit(context.Background(), foreign.Model, tr, val, resume)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was it copied from another run?")
	assert.Equal(t, before, snapshot(t, mine.OutDir))

	// Its own checkpoint resumes, keeping the run id.
	own, err := train.LoadCheckpoint(filepath.Join(mine.OutDir, train.LastName))
	require.NoError(t, err)
	resume.Resume = own
	_, err = train.Fit(context.Background(), own.Model, tr, val, resume)
	require.NoError(t, err)
	again, err := train.LoadCheckpoint(filepath.Join(mine.OutDir, train.LastName))
	require.NoError(t, err)
	assert.Equal(t, own.State.RunID, again.State.RunID)
	assert.Equal(t, 2, again.State.Epoch)
}
