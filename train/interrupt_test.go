package train_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/train"
)

// TestInterruptBeforeFirstStep cancels runs before any step (Ctrl-C right
// after start): the checkpoint has no optimizer buffers yet, and resuming
// from it must still give the unbroken run bit for bit.
func TestInterruptBeforeFirstStep(t *testing.T) {
	tr, val := sample(t, 250)
	for name, cfg := range resumeConfigs() {
		t.Run(name, func(t *testing.T) {
			cfg := cfg
			cfg.Epochs = 2
			whole := newModel(t, "basic")
			want, err := train.Fit(context.Background(), whole, tr, val, cfg)
			require.NoError(t, err)

			cfg.OutDir = t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err = train.Fit(ctx, newModel(t, "basic"), tr, val, cfg)
			require.ErrorIs(t, err, train.ErrInterrupted)
			assert.Contains(t, err.Error(), "after epoch 0 (step 0)")
			loaded, err := train.LoadCheckpoint(filepath.Join(cfg.OutDir, train.LastName))
			require.NoError(t, err)
			assert.Equal(t, 0, loaded.State.Step)

			cfg.Resume = loaded
			got, err := train.Fit(context.Background(), loaded.Model, tr, val, cfg)
			require.NoError(t, err)
			assert.Equal(t, losses(want.History), losses(got.History))
			assert.Equal(t, weights(whole), weights(loaded.Model))
		})
	}
}
