package dataset

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImputer(t *testing.T) {
	nan := float32(math.NaN())
	// Columns: a = 1, NaN, 3, 10 (mean 14/3, median 3); b = NaN, 2, 2, 5
	// (mean 3, median 2).
	d := &Dataset{Name: "t", N: 4, C: 1, H: 1, W: 2, Columns: []string{"a", "b"},
		X: []float32{1, nan, nan, 2, 3, 2, 10, 5}}
	assert.Equal(t, 2, CountMissing(d))
	for _, tc := range []struct {
		kind string
		fill []float32
	}{
		{"mean", []float32{14.0 / 3, 3}},
		{"median", []float32{3, 2}},
		{"zero", []float32{0, 0}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			im, err := FitImputer(tc.kind, d)
			require.NoError(t, err)
			assert.InDeltaSlice(t, tc.fill, im.Fill, 1e-6)
			c := d.Head(d.N)
			c.X = append([]float32(nil), d.X...)
			n, err := im.Apply(c)
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			assert.InDeltaSlice(t, []float32{1, tc.fill[1], tc.fill[0], 2, 3, 2, 10, 5}, c.X, 1e-6)
			assert.Zero(t, CountMissing(c))
			assert.True(t, math.IsNaN(float64(d.X[1])), "the data fitted on is left as it was")
		})
	}

	_, err := FitImputer("mode", d)
	assert.ErrorContains(t, err, `impute: unknown policy "mode"`)
	empty := &Dataset{Name: "e", N: 2, C: 1, H: 1, W: 2, Columns: []string{"a", "gone"}, X: []float32{1, nan, 2, nan}}
	_, err = FitImputer("median", empty)
	assert.ErrorContains(t, err, `impute median: column "gone" has no value in any of the 2 rows of e`)
	im, err := FitImputer("zero", empty)
	require.NoError(t, err, "zero needs no values")
	_, err = im.ApplySlice([]float32{1, 2, 3})
	assert.ErrorContains(t, err, "3 values is not a multiple of its 2 features")
	_, err = im.Apply(&Dataset{Name: "w", N: 1, C: 1, H: 1, W: 3, X: []float32{1, 2, 3}})
	assert.ErrorContains(t, err, `imputer zero has 2 features but dataset "w" has 3`)
	assert.ErrorContains(t, (&Imputer{Kind: "mean", Fill: []float32{nan}}).Validate(), "fill value NaN is not finite")
}

func TestLoadCSVMissing(t *testing.T) {
	p := csvFile(t, "a,b,label\n1,,0\nNA,2,1\n3,?,0\n")
	_, err := LoadCSV(p, CSVOptions{DefaultLabel: "label"})
	assert.ErrorContains(t, err, `line 2, column 2 ("b"): missing value ""; remove the row, fill the value in, or pass -impute mean, median or zero`)
	d, err := LoadCSV(p, CSVOptions{DefaultLabel: "label", Missing: true})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 0}, d.Labels)
	assert.Equal(t, 3, CountMissing(d))
	assert.True(t, math.IsNaN(float64(d.X[1])) && math.IsNaN(float64(d.X[2])) && math.IsNaN(float64(d.X[5])))
	assert.Equal(t, float32(3), d.X[4])

	// A label cannot be imputed.
	_, err = LoadCSV(csvFile(t, "a,label\n1,\n"), CSVOptions{DefaultLabel: "label", Missing: true})
	assert.ErrorContains(t, err, `line 2, column 2 ("label"): missing label ""; every row needs its label`)
}
