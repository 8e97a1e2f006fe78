package eval

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogram(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
		bins   int
		lo, hi float64
		edges  []float64
		counts []int
	}{
		{"interior and edges", []float64{0, 0.5, 1, 1.9, 2, 4}, 4, 0, 4, []float64{0, 1, 2, 3, 4}, []int{2, 2, 1, 1}},
		{"outside the range goes to the end bins", []float64{-3, 0.1, 9}, 2, 0, 1, []float64{0, 0.5, 1}, []int{2, 1}},
		{"one repeated value", []float64{2, 2, 2}, 2, 2, 2, []float64{1.5, 2, 2.5}, []int{0, 3}},
		{"no values", nil, 3, 0, 3, []float64{0, 1, 2, 3}, []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edges, counts, err := Histogram(tc.values, tc.bins, tc.lo, tc.hi)
			require.NoError(t, err)
			assert.InDeltaSlice(t, tc.edges, edges, 1e-12)
			assert.Equal(t, tc.counts, counts)
			assert.Equal(t, len(tc.values), sum(counts), "counts sum to the number of values")
		})
	}
	for _, tc := range []struct {
		values []float64
		bins   int
		lo, hi float64
		want   string
	}{
		{[]float64{1}, 0, 0, 1, "0 bins"},
		{[]float64{1}, 2, 1, 0, "not a finite interval"},
		{[]float64{1}, 2, 0, math.Inf(1), "not a finite interval"},
		{[]float64{1, math.NaN()}, 2, 0, 1, "value 1 is NaN"},
	} {
		_, _, err := Histogram(tc.values, tc.bins, tc.lo, tc.hi)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestPRCurve(t *testing.T) {
	// Ranked 0.9 (pos), 0.8 (neg), 0.7 and 0.7 (pos, neg: one point), 0.1 (pos).
	scores := []float64{0.9, 0.8, 0.7, 0.7, 0.1}
	positive := []bool{true, false, true, false, true}
	recall, precision, err := PRCurve(scores, positive)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1}, recall, 1e-12)
	assert.InDeltaSlice(t, []float64{1, 1, 0.5, 0.5, 0.6}, precision, 1e-12)
	// Average precision is the step integral of this curve.
	var ap float64
	for i := 1; i < len(recall); i++ {
		ap += (recall[i] - recall[i-1]) * precision[i]
	}
	want, err := AUPRC(scores, positive)
	require.NoError(t, err)
	assert.InDelta(t, want, ap, 1e-12)

	_, _, err = PRCurve([]float64{1, 2}, []bool{true, true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "need both classes")
}

func TestSaveHistogram(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scores.png")
	edges := []float64{0, 1, 2, 3}
	require.NoError(t, SaveHistogram(path, "scores", "score", edges, 2.5, "threshold",
		HistogramGroup{Name: "normal", Counts: []int{5, 3, 0}}, HistogramGroup{Name: "anomalies", Counts: []int{0, 1, 2}}))
	img := decodePNG(t, path)
	assert.Positive(t, img.Bounds().Dx())
	// No threshold to mark still draws.
	require.NoError(t, SaveHistogram(filepath.Join(dir, "b.png"), "scores", "score", edges, math.NaN(), "", HistogramGroup{Counts: []int{1, 1, 1}}))

	err := SaveHistogram(filepath.Join(dir, "c.png"), "s", "x", edges, 1, "", HistogramGroup{Name: "g", Counts: []int{1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `group "g" has 1 counts for 3 bins`)
	require.Error(t, SaveHistogram(filepath.Join(dir, "d.png"), "s", "x", edges, 1, ""))
}
