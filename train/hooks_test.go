package train_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/train"
)

// counter is a user hook: it counts what Fit tells it and stops the run
// at epoch stopAt.
type counter struct {
	train.BaseHook
	starts, steps []int
	ends          []train.EpochStats
	stopAt        int
}

func (c *counter) EpochStart(_ *train.Run, epoch, steps int) {
	c.starts = append(c.starts, epoch)
	c.steps = append(c.steps, 0)
}

func (c *counter) Step(_ *train.Run, _, done int, loss float64) { c.steps[len(c.steps)-1] = done }

func (c *counter) EpochEnd(r *train.Run, es train.EpochStats) error {
	c.ends = append(c.ends, es)
	if es.Epoch == c.stopAt {
		r.Stop("enough")
	}
	return nil
}

func TestUserHookSeesAndStopsTheRun(t *testing.T) {
	tr, val := sample(t, 250) // 200 training samples: 10 steps of 20
	c := &counter{stopAt: 2}
	cfg := train.Config{Epochs: 5, Batch: 20, LR: 1e-3, Seed: 3, OutDir: t.TempDir(), Hooks: []train.Hook{c}}
	res, err := train.Fit(context.Background(), newModel(t, "basic"), tr, val, cfg)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, c.starts)
	assert.Equal(t, []int{10, 10}, c.steps)
	require.Len(t, c.ends, 2)
	assert.Equal(t, res.History, c.ends)
	assert.Equal(t, "enough", res.Stopped)

	// The stop is saved: the last checkpoint is of epoch 2 and stays finished.
	l, err := train.LoadCheckpoint(filepath.Join(cfg.OutDir, train.LastName))
	require.NoError(t, err)
	assert.Equal(t, 2, l.State.Epoch)
	assert.Equal(t, "enough", l.State.Stopped)
	cfg.Hooks, cfg.Resume = nil, l
	again, err := train.Fit(context.Background(), l.Model, tr, val, cfg)
	require.NoError(t, err)
	assert.Len(t, again.History, 2, "a stopped run resumed does not train on")
}
