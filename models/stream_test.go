package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
)

// ReconstructEach must give exactly Reconstruct's values, a chunk at a time,
// for more samples than one chunk (4096) with a short last batch.
func TestReconstructEachEqualsReconstruct(t *testing.T) {
	for _, kind := range []string{"deep", "conv", "vae"} {
		t.Run(kind, func(t *testing.T) {
			m := tiny(t, kind)
			n := 4096 + 300
			x := batchOf(n, 16)
			want, err := models.Reconstruct(m, x, n)
			require.NoError(t, err)
			var starts []int
			got := make([]float32, 0, len(want))
			err = models.ReconstructEach(m, x, n, func(start int, in, recon []float32) error {
				starts = append(starts, start)
				assert.Equal(t, x[start*16:start*16+len(in)], in)
				got = append(got, recon...)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, []int{0, 4096}, starts)
			assert.Equal(t, want, got)
		})
	}
	err := models.ReconstructEach(tiny(t, "deep"), make([]float32, 15), 1, nil)
	assert.ErrorContains(t, err, "want a positive number of samples × 16")
}

// A nil output buffer drops that output and leaves the others as they were.
func TestRunnerNilOutput(t *testing.T) {
	m := tiny(t, "deep")
	n := 300
	x := batchOf(n, 16)
	r, err := models.NewRunner(m, 64, models.ScoreBuild(m))
	require.NoError(t, err)
	defer r.Close()
	w := r.Widths()
	recon, code, score := make([]float32, n*w[0]), make([]float32, n*w[1]), make([]float32, n)
	require.NoError(t, r.Run(x, n, recon, code, score))
	only := make([]float32, n)
	require.NoError(t, r.Run(x, n, nil, nil, only))
	assert.Equal(t, score, only)
	scores, err := models.Scores(m, x, n)
	require.NoError(t, err)
	require.Len(t, scores, n)
	assert.InDelta(t, float64(score[7]), scores[7], 1e-6)
	assert.ErrorContains(t, r.Run(x, n, recon[1:], nil, only), "output buffer 0")
}
