package train_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// childDir, when set, makes the test binary train forever into that
// directory, checkpointing every epoch, until it is killed.
const childDir = "HOURGLASS_TRAIN_KILL_DIR"

func TestMain(m *testing.M) {
	if dir, ok := os.LookupEnv(childDir); ok {
		os.Exit(trainUntilKilled(dir))
	}
	os.Exit(m.Run())
}

func trainUntilKilled(dir string) int {
	s, err := dataset.Load("sample")
	if err != nil {
		return 3
	}
	spec, err := models.DefaultSpec("basic", []int{1, 28, 28}, 0)
	if err != nil {
		return 3
	}
	m, err := models.New(spec)
	if err != nil {
		return 3
	}
	// Two steps per epoch: the process spends most of its time writing
	// checkpoints, which is where the kill should land.
	tr, val, err := s.Train.Head(50).Split(0.2, 1)
	if err != nil {
		return 3
	}
	if _, err := train.Fit(context.Background(), m, tr, val, train.Config{Epochs: 1 << 20, Batch: 20, LR: 1e-3, Seed: 1, OutDir: dir, Keep: 2}); err != nil {
		return 4
	}
	return 0
}

// TestSIGKILLLeavesLoadableCheckpoint kills a training process at several
// moments while it writes checkpoints back to back; every time, last.safetensors
// must load and be a whole epoch.
func TestSIGKILLLeavesLoadableCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, delay := range []time.Duration{50 * time.Millisecond, 130 * time.Millisecond, 270 * time.Millisecond} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDir+"="+dir)
		require.NoError(t, cmd.Start())
		last := filepath.Join(dir, train.LastName)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(last); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(delay)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		l, err := train.LoadCheckpoint(last)
		require.NoError(t, err, "killed %v after the first checkpoint", delay)
		assert.Positive(t, l.State.Epoch)
		assert.Zero(t, l.State.Pos, "an epoch checkpoint")
	}
}
