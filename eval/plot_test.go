package eval

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveLinePlot(t *testing.T) {
	dir := t.TempDir()
	epochs := []float64{1, 2, 3, 4, 5}
	train := Series{Name: "train", X: epochs, Y: []float64{0.08, 0.04, 0.03, 0.025, 0.022}}
	val := Series{Name: "val", X: epochs, Y: []float64{0.07, 0.045, math.NaN(), 0.03, 0.029}}
	path := filepath.Join(dir, "loss.png")
	require.NoError(t, SaveLinePlot(path, "Loss", "epoch", "MSE", train, val))
	img := decodePNG(t, path)
	assert.Positive(t, img.Bounds().Dx())
	assert.Positive(t, img.Bounds().Dy())
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Positive(t, st.Size())

	// A single epoch still renders.
	one := filepath.Join(dir, "one.png")
	require.NoError(t, SaveLinePlot(one, "Loss", "epoch", "MSE", Series{Name: "train", X: []float64{1}, Y: []float64{0.1}}))
	decodePNG(t, one)
}

func TestSaveLinePlotErrors(t *testing.T) {
	dir := t.TempDir()
	err := SaveLinePlot(filepath.Join(dir, "a.png"), "t", "x", "y")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no series")

	err = SaveLinePlot(filepath.Join(dir, "b.png"), "t", "x", "y", Series{Name: "roc", X: []float64{0, 1}, Y: []float64{0}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"roc"`)
	assert.NoFileExists(t, filepath.Join(dir, "b.png"))
}

func TestSaveScatter(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	xy := make([]float32, 2*n)
	labels := make([]int, n)
	for i := range n {
		a := float64(i) * 0.1
		xy[2*i] = float32(math.Cos(a) * float64(i%10))
		xy[2*i+1] = float32(math.Sin(a) * float64(i%10))
		labels[i] = i % 10
	}
	names := []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

	for _, tc := range []struct {
		name   string
		labels []int
		names  []string
	}{
		{"labelled", labels, names},
		{"no labels", nil, nil},
		{"labels without names", labels, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".png")
			require.NoError(t, SaveScatter(path, "Latent space", xy, tc.labels, tc.names))
			img := decodePNG(t, path)
			assert.Positive(t, img.Bounds().Dx())
		})
	}

	err := SaveScatter(filepath.Join(dir, "x.png"), "t", xy[:3], nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "n×2")
	err = SaveScatter(filepath.Join(dir, "x.png"), "t", xy, labels[:5], nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5 labels for 300 points")
}

func TestLegendPlacement(t *testing.T) {
	for _, tc := range []struct {
		name string
		y    []float64
		high bool
	}{
		{"falling loss", []float64{1, 0.5, 0.3, 0.2, 0.1}, false},
		{"rising ROC", []float64{0, 0.6, 0.8, 0.95, 1}, true},
		{"no finite points", []float64{math.NaN()}, false},
	} {
		x := make([]float64, len(tc.y))
		assert.Equal(t, tc.high, endsHigh([]Series{{X: x, Y: tc.y}}), tc.name)
	}
}
