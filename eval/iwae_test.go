package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogMeanExp(t *testing.T) {
	cases := []struct {
		name string
		v    []float64
		want float64
	}{
		{"one value", []float64{-3}, -3},
		{"equal values", []float64{2, 2, 2}, 2},
		{"two values", []float64{0, math.Log(3)}, math.Log(2)},
		{"large magnitudes do not overflow", []float64{-1000, -1000 + math.Log(3)}, -1000 + math.Log(2)},
		{"minus infinity counts as zero weight", []float64{math.Inf(-1), 0}, math.Log(0.5)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.InDelta(t, c.want, LogMeanExp(c.v), 1e-9)
		})
	}
	assert.True(t, math.IsNaN(LogMeanExp(nil)))
}

func TestLikelihoods(t *testing.T) {
	tgt := []float32{1, 0, 0.5}
	p := []float32{0.8, 0.1, 0.5}
	want := math.Log(0.8+1e-7) + math.Log(0.9+1e-7) + 0.5*math.Log(0.5+1e-7) + 0.5*math.Log(0.5+1e-7)
	assert.InDelta(t, want, BernoulliLogLik(tgt, p), 1e-6)
	assert.InDelta(t, -(0.04 + 0.01 + 0), NegSSE(tgt, p), 1e-7)
}

func TestLogImportanceWeight(t *testing.T) {
	// With μ = 0 and σ = 1 the posterior is the prior: the weight is 1.
	eps := []float32{0.3, -1.2}
	assert.InDelta(t, 0, LogImportanceWeight(eps, eps, []float32{0, 0}), 1e-6)
	// μ = 1, σ² = 4, ε = 0.5: z = 2; log N(2;0,1) − log N(2;1,4).
	z := []float32{2}
	want := (-0.5 * (4 + log2Pi)) - (-0.5 * (0.25 + math.Log(4) + log2Pi))
	assert.InDelta(t, want, LogImportanceWeight(z, []float32{0.5}, []float32{float32(math.Log(4))}), 1e-6)
}
