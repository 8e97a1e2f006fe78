package train_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// TestInitFromData: a VAE's run with InitFromData starts its output bias at
// the logit of the training mean; the run differs from one without it; a
// run stopped mid-epoch and resumed with it set (the resume must not
// re-initialise) equals the unbroken run bit for bit; a plain autoencoder
// is not touched by it.
func TestInitFromData(t *testing.T) {
	tr, val := sample(t, 250) // 200 training images: 10 steps of 20
	cfg := train.Config{Epochs: 2, Batch: 20, LR: 1e-3, Seed: 3, InitFromData: true}

	// One step is enough to see where the bias started: Adam moves each
	// value by at most about lr.
	fresh := newModel(t, "vae")
	ctx, cancel := context.WithCancel(context.Background())
	one := cfg
	one.AfterStep = func(_, step int) { cancel() }
	_, err := train.Fit(ctx, fresh, tr, val, one)
	cancel()
	require.ErrorIs(t, err, train.ErrInterrupted)
	bias, ok := fresh.Params().Get("decoder.1.b")
	require.True(t, ok)
	dim := tr.Dim()
	// The first 10,000 samples of epoch 1 are all 200 here: the plain mean.
	for _, j := range []int{0, 300, 400, 783} {
		var m float64
		for i := 0; i < tr.N; i++ {
			m += float64(tr.X[i*dim+j])
		}
		p := min(max(m/float64(tr.N), 1e-3), 1-1e-3)
		assert.InDelta(t, math.Log(p/(1-p)), bias.Data()[j], 2.5e-3, "pixel %d (mean %.4f)", j, m/float64(tr.N))
	}

	whole := newModel(t, "vae")
	cfg.OutDir = t.TempDir()
	want, err := train.Fit(context.Background(), whole, tr, val, cfg)
	require.NoError(t, err)

	plain := newModel(t, "vae")
	off := cfg
	off.OutDir, off.InitFromData = t.TempDir(), false
	_, err = train.Fit(context.Background(), plain, tr, val, off)
	require.NoError(t, err)
	assert.NotEqual(t, weights(whole)["decoder.1.b"], weights(plain)["decoder.1.b"])

	stopped := cfg
	stopped.OutDir = t.TempDir()
	ctx, cancel = context.WithCancel(context.Background())
	stopped.AfterStep = func(_, step int) {
		if step == 14 {
			cancel()
		}
	}
	_, err = train.Fit(ctx, newModel(t, "vae"), tr, val, stopped)
	cancel()
	require.ErrorIs(t, err, train.ErrInterrupted)
	loaded, err := train.LoadCheckpoint(filepath.Join(stopped.OutDir, train.LastName))
	require.NoError(t, err)
	stopped.AfterStep, stopped.Resume = nil, loaded
	got, err := train.Fit(context.Background(), loaded.Model, tr, val, stopped)
	require.NoError(t, err)
	assert.Equal(t, weights(whole), weights(loaded.Model), "a resumed run must not start its bias again")
	assert.Equal(t, losses(want.History), losses(got.History))

	// A kind without the method trains exactly as without the option.
	basic, basicOff := newModel(t, "basic"), newModel(t, "basic")
	cfg.OutDir = ""
	_, err = train.Fit(context.Background(), basic, tr, val, cfg)
	require.NoError(t, err)
	cfg.InitFromData = false
	_, err = train.Fit(context.Background(), basicOff, tr, val, cfg)
	require.NoError(t, err)
	assert.Equal(t, weights(basicOff), weights(basic))
	_, isInit := basic.(models.MeanInitializer)
	assert.False(t, isInit)
}
