package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mixtureData draws n rows from a known diagonal mixture.
func mixtureData(n int, weights []float64, means, stds [][]float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := len(means[0])
	x := make([]float32, 0, n*d)
	for range n {
		u, c := rng.Float64(), len(weights)-1
		for k, w := range weights {
			if u < w {
				c = k
				break
			}
			u -= w
		}
		for j := range d {
			x = append(x, float32(means[c][j]+stds[c][j]*rng.NormFloat64()))
		}
	}
	return x
}

// nearest is the index of the fitted mean closest to want.
func nearest(g *GMM, want []float64) int {
	best, bestD := -1, math.Inf(1)
	for c, mu := range g.Means {
		var s float64
		for j := range mu {
			s += (mu[j] - want[j]) * (mu[j] - want[j])
		}
		if s < bestD {
			best, bestD = c, s
		}
	}
	return best
}

func TestFitGMMRecoversKnownMixture(t *testing.T) {
	weights := []float64{0.5, 0.3, 0.2}
	means := [][]float64{{0, 0}, {6, 1}, {-3, 7}}
	stds := [][]float64{{1, 0.5}, {0.4, 1.5}, {0.8, 0.8}}
	const n = 6000
	x := mixtureData(n, weights, means, stds, 1)
	for _, seed := range []uint64{1, 2, 3} {
		g, err := FitGMM(x, n, 2, GMMOptions{K: 3, Seed: seed})
		require.NoError(t, err)
		seen := map[int]bool{}
		for c, mu := range means {
			k := nearest(g, mu)
			require.False(t, seen[k], "seed %d: two true components matched fitted component %d", seed, k)
			seen[k] = true
			for j := range mu {
				assert.InDelta(t, mu[j], g.Means[k][j], 0.1, "seed %d component %d mean %d", seed, c, j)
				assert.InDelta(t, stds[c][j]*stds[c][j], g.Vars[k][j], 0.15*stds[c][j]*stds[c][j], "seed %d component %d variance %d", seed, c, j)
			}
			assert.InDelta(t, weights[c], g.Weights[k], 0.03, "seed %d component %d weight", seed, c)
		}
		ll, err := g.MeanLogLikelihood(x, n)
		require.NoError(t, err)
		assert.InDelta(t, g.LogLikelihood, ll, 1e-9)
	}
}

func TestFitGMMIsSeededAndLikelihoodRisesWithK(t *testing.T) {
	means := [][]float64{{0, 0, 0}, {4, 4, 0}, {0, 4, 4}, {4, 0, 4}}
	stds := [][]float64{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}}
	const n = 2000
	x := mixtureData(n, []float64{0.25, 0.25, 0.25, 0.25}, means, stds, 3)
	a, err := FitGMM(x, n, 3, GMMOptions{K: 4, Seed: 9})
	require.NoError(t, err)
	b, err := FitGMM(x, n, 3, GMMOptions{K: 4, Seed: 9})
	require.NoError(t, err)
	assert.Equal(t, a.Means, b.Means, "same data and seed, same mixture")
	assert.Equal(t, a.Weights, b.Weights)

	one, err := FitGMM(x, n, 3, GMMOptions{K: 1, Seed: 9})
	require.NoError(t, err)
	// One component is the data's mean and variance exactly.
	for j := range 3 {
		var m float64
		for i := range n {
			m += float64(x[i*3+j])
		}
		assert.InDelta(t, m/n, one.Means[0][j], 1e-9)
	}
	assert.Equal(t, 1.0, one.Weights[0])
	// Four components explain four clusters far better than one.
	assert.Greater(t, a.LogLikelihood, one.LogLikelihood+0.5)
}

func TestGMMSampleFollowsTheMixture(t *testing.T) {
	g := &GMM{K: 2, D: 2, Weights: []float64{0.75, 0.25},
		Means: [][]float64{{-5, 0}, {5, 10}}, Vars: [][]float64{{1, 4}, {0.25, 1}}}
	const n = 20000
	s := g.Sample(n, rand.New(rand.NewPCG(1, 2)))
	require.Len(t, s, 2*n)
	var left int
	var sum0, sq1 float64
	for i := range n {
		if s[2*i] < 0 {
			left++
			sum0 += float64(s[2*i])
			sq1 += float64(s[2*i+1]) * float64(s[2*i+1])
		}
	}
	assert.InDelta(t, 0.75, float64(left)/n, 0.015, "share drawn from the first component")
	assert.InDelta(t, -5, sum0/float64(left), 0.05, "first component's mean")
	assert.InDelta(t, 4, sq1/float64(left), 0.2, "first component's second variance")
}

func TestFitGMMRejectsBadInput(t *testing.T) {
	x := []float32{0, 1, 2, 3, 4, 5}
	cases := []struct {
		name string
		x    []float32
		n, d int
		opt  GMMOptions
	}{
		{"no rows", nil, 0, 2, GMMOptions{}},
		{"size mismatch", x, 4, 2, GMMOptions{K: 1}},
		{"more components than rows", x, 3, 2, GMMOptions{K: 4}},
		{"negative tolerance", x, 3, 2, GMMOptions{K: 1, Tol: -1}},
		{"NaN value", []float32{0, 1, float32(math.NaN()), 3}, 2, 2, GMMOptions{K: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := FitGMM(c.x, c.n, c.d, c.opt)
			assert.Error(t, err)
		})
	}
}

func TestFitGMMWithRepeatedRows(t *testing.T) {
	// Fewer distinct rows than components: every component still gets a
	// finite mean and a positive variance.
	x := []float32{1, 1, 1, 1, 2, 2, 2, 2}
	g, err := FitGMM(x, 4, 2, GMMOptions{K: 3, Seed: 1})
	require.NoError(t, err)
	for c := range g.K {
		for j := range g.D {
			assert.False(t, math.IsNaN(g.Means[c][j]))
			assert.Greater(t, g.Vars[c][j], 0.0)
		}
	}
	assert.False(t, math.IsNaN(g.LogLikelihood))
}
