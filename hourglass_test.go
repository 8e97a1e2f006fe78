package hourglass_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/train"
)

// trained is a deep model trained briefly on 2048 sample images, saved.
func trained(t *testing.T) (*hourglass.Model, string, *hourglass.Dataset) {
	t.Helper()
	tr, test, err := hourglass.LoadData("sample")
	require.NoError(t, err)
	dir := t.TempDir()
	m, hist, err := hourglass.Train(context.Background(), tr.Head(2048), hourglass.Config{Epochs: 3, OutDir: dir})
	require.NoError(t, err)
	require.Len(t, hist.Epochs, 3)
	return m, filepath.Join(dir, hourglass.ModelFile), test.Head(64)
}

func TestLoadScoresAsTrained(t *testing.T) {
	m, path, test := trained(t)
	loaded, err := hourglass.Load(path)
	require.NoError(t, err)
	want, err := m.Score(test.X)
	require.NoError(t, err)
	got, err := loaded.Score(test.X)
	require.NoError(t, err)
	require.Len(t, got, test.N)
	assert.InDeltaSlice(t, want, got, 1e-9)
	var sum float64
	for _, s := range got {
		assert.Greater(t, s, 0.0)
		sum += s
	}
	assert.Less(t, sum/float64(len(got)), 0.08, "even briefly trained, the deep model reconstructs test images with a mean MSE under 0.08")
	t1, ok1 := m.Threshold()
	t2, ok2 := loaded.Threshold()
	require.True(t, ok1)
	require.True(t, ok2)
	assert.Equal(t, t1, t2)
	assert.Equal(t, 99.0, t2.Percentile)
	assert.Equal(t, "recon", t2.Score)

	// Inverted images are far from anything the model saw.
	inv := make([]float32, len(test.X))
	for i, v := range test.X {
		inv[i] = 1 - v
	}
	flags, err := loaded.Predict(inv)
	require.NoError(t, err)
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	assert.GreaterOrEqual(t, n, test.N*9/10, "inverted images are anomalies")
	normal, err := loaded.Predict(test.X)
	require.NoError(t, err)
	n = 0
	for _, f := range normal {
		if f {
			n++
		}
	}
	assert.Less(t, n, test.N/4, "few ordinary test images are flagged")
}

func TestShapeContract(t *testing.T) {
	m, _, test := trained(t)
	dim := m.InputDim()
	nan := append([]float32(nil), test.X[:dim]...)
	nan[5] = float32(math.NaN())
	cases := []struct {
		name string
		x    []float32
		want string
	}{
		{"empty", nil, "input has 0 values, not a positive number of samples of 784 values"},
		{"short row", test.X[:dim-1], "input has 783 values"},
		{"one and a bit", test.X[:dim+3], "input has 787 values"},
		{"NaN", nan, "input sample 0, value 5: NaN is not a finite number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.Score(c.x)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			_, err = m.Encode(c.x)
			assert.Error(t, err)
			_, err = m.Reconstruct(c.x)
			assert.Error(t, err)
		})
	}
	codes, err := m.Encode(test.X[:2*dim])
	require.NoError(t, err)
	assert.Len(t, codes, 2*m.CodeDim())
	rec, err := m.Reconstruct(test.X[:2*dim])
	require.NoError(t, err)
	assert.Len(t, rec, 2*dim)
	for _, v := range rec {
		assert.True(t, v >= 0 && v <= 1, "sigmoid outputs lie in [0,1], got %v", v)
	}
}

func TestTableScalingAndDetector(t *testing.T) {
	// Features in the hundreds: the default min-max scaler is fitted and
	// stored, and Reconstruct answers in the table's own units.
	var x []float32
	for i := range 300 {
		v := float32(i % 30)
		x = append(x, 100+v, 200-v, 150+v/2)
	}
	d, err := hourglass.NewDataset("table", x, 3)
	require.NoError(t, err)
	det := hourglass.NewDetector(hourglass.Config{Kind: "basic", Latent: 1, Epochs: 40, Batch: 30, LR: 1e-2}, 0.05)
	require.NoError(t, det.Fit(context.Background(), d))
	thr, ok := det.Threshold()
	require.True(t, ok)
	assert.InDelta(t, 95, thr.Percentile, 1e-9)

	rec, err := det.Model().Reconstruct(x[:3*10])
	require.NoError(t, err)
	for i := range 10 {
		assert.InDelta(t, x[3*i], rec[3*i], 15, "row %d feature 0 reconstructed in the table's units", i)
		assert.InDelta(t, x[3*i+1], rec[3*i+1], 15, "row %d feature 1", i)
	}
	flags, err := det.Predict(x)
	require.NoError(t, err)
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	// The threshold is the 95th percentile of the 270 training rows.
	assert.LessOrEqual(t, n, 300/10, "about 5%% of the normal rows are flagged, got %d", n)
	off, err := det.Predict([]float32{100, 100, 300})
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, off)

	path := filepath.Join(t.TempDir(), "det.safetensors")
	require.NoError(t, det.Save(path))
	again, err := hourglass.LoadDetector(path)
	require.NoError(t, err)
	off, err = again.Predict([]float32{100, 100, 300})
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, off, "the saved detector flags with its stored threshold")
}

func TestCallbacksAndCancel(t *testing.T) {
	tr, _, err := hourglass.LoadData("sample")
	require.NoError(t, err)
	data := tr.Head(256)
	var seen []int
	_, hist, err := hourglass.Train(context.Background(), data, hourglass.Config{Epochs: 5, Callbacks: []hourglass.Callback{
		func(e hourglass.Epoch) error {
			seen = append(seen, e.Epoch)
			assert.Greater(t, e.TrainLoss, 0.0)
			assert.Greater(t, e.ValLoss, 0.0)
			if e.Epoch == 2 {
				return hourglass.ErrStop
			}
			return nil
		}}})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, seen)
	assert.Len(t, hist.Epochs, 2)
	assert.Contains(t, hist.Stopped, "stopped after epoch 2 by a callback")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, _, err = hourglass.Train(ctx, data, hourglass.Config{Epochs: 2, OutDir: dir})
	require.ErrorIs(t, err, train.ErrInterrupted)
	assert.FileExists(t, filepath.Join(dir, train.LastName), "a cancelled run leaves a checkpoint to resume from")

	_, _, err = hourglass.Train(context.Background(), data, hourglass.Config{Kind: "nope"})
	assert.ErrorContains(t, err, `unknown model kind "nope"`)
}

func TestVAEScoresAreNegELBO(t *testing.T) {
	tr, test, err := hourglass.LoadData("sample")
	require.NoError(t, err)
	m, _, err := hourglass.Train(context.Background(), tr.Head(256), hourglass.Config{Kind: "vae", Epochs: 1})
	require.NoError(t, err)
	thr, ok := m.Threshold()
	require.True(t, ok)
	assert.Equal(t, "elbo", thr.Score)
	s, err := m.Score(test.X[:4*784])
	require.NoError(t, err)
	for _, v := range s {
		// The negative ELBO of a Fashion-MNIST image in nats: hundreds, not an MSE.
		assert.Greater(t, v, 50.0)
		assert.Less(t, v, 1000.0)
	}
}

func TestRunMatchesSeparateCalls(t *testing.T) {
	var x []float32
	for i := range 200 {
		v := float32(i % 20)
		x = append(x, 10+v, 50-v, 30+v/2, 7)
	}
	d, err := hourglass.NewDataset("table", x, 4)
	require.NoError(t, err)
	m, _, err := hourglass.Train(context.Background(), d, hourglass.Config{Kind: "basic", Latent: 2, Epochs: 5, Batch: 20})
	require.NoError(t, err)
	o, err := m.Run(x[:40])
	require.NoError(t, err)
	s, err := m.Score(x[:40])
	require.NoError(t, err)
	r, err := m.Reconstruct(x[:40])
	require.NoError(t, err)
	c, err := m.Encode(x[:40])
	require.NoError(t, err)
	assert.Equal(t, s, o.Scores)
	assert.Equal(t, r, o.Reconstruction)
	assert.Equal(t, c, o.Codes)

	sc := m.Scaler()
	require.NotNil(t, sc)
	assert.Equal(t, "minmax", sc.Kind)
	assert.InDelta(t, 10, sc.A[0], 1e-6, "min of feature 0 over the training split")
	sc.A[0] = 999 // a copy: the model keeps its own
	assert.InDelta(t, 10, m.Scaler().A[0], 1e-6)
}
