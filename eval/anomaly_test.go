package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleMSE(t *testing.T) {
	got, err := SampleMSE([]float32{0, 0, 1, 1}, []float32{1, 1, 1, 0}, 2)
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 0.5}, got)
	_, err = SampleMSE([]float32{0, 0, 1}, []float32{1, 1, 1}, 2)
	assert.ErrorContains(t, err, "samples of 2")
}

func TestFlagPrecisionRecall(t *testing.T) {
	flags := Flag([]float64{0.1, 0.9, 0.5, 0.7}, 0.5)
	assert.Equal(t, []bool{false, true, false, true}, flags)
	p, r, err := PrecisionRecall(flags, []bool{false, true, true, false})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, p, 1e-12)
	assert.InDelta(t, 0.5, r, 1e-12)
	p, _, err = PrecisionRecall([]bool{false}, []bool{true})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(p))
	_, _, err = PrecisionRecall([]bool{false}, nil)
	assert.Error(t, err)
}
