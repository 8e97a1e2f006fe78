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

// A Runner reads full batches where the caller keeps them: the outputs
// equal those of a copy fed one sample at a time (through the runner's own
// zero-padded buffer), x is left as it was, and a second input run through
// the same runner is not answered from the first.
func TestRunnerReadsBatchesInPlace(t *testing.T) {
	for _, kind := range []string{"deep", "conv", "vae"} {
		t.Run(kind, func(t *testing.T) {
			m := tiny(t, kind)
			n := 2*64 + 5
			x := batchOf(n, 16)
			orig := append([]float32(nil), x...)
			r, err := models.NewRunner(m, 64, models.AutoencoderBuild(m))
			require.NoError(t, err)
			defer r.Close()
			w := r.Widths()
			recon, code := make([]float32, n*w[0]), make([]float32, n*w[1])
			require.NoError(t, r.Run(x, n, recon, code))
			assert.Equal(t, orig, x, "the input must not be written")
			for _, i := range []int{0, 63, 64, 130, n - 1} {
				one, err := models.Reconstruct(m, append([]float32(nil), x[i*16:(i+1)*16]...), 1)
				require.NoError(t, err)
				assert.InDeltaSlice(t, one, recon[i*w[0]:(i+1)*w[0]], 1e-6, "sample %d", i)
			}
			y := batchOf(n, 16)
			for i := range y {
				y[i] = 1 - y[i]
			}
			recon2, code2 := make([]float32, len(recon)), make([]float32, len(code))
			require.NoError(t, r.Run(y, n, recon2, code2))
			assert.NotEqual(t, code[:w[1]], code2[:w[1]])
			require.NoError(t, r.Run(x, n, recon2, code2))
			assert.Equal(t, recon, recon2, "the same input, the same bits")
			assert.Equal(t, code, code2)
		})
	}
}
