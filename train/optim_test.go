package train

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/graph"
)

func param(name string, vals ...float32) *graph.Param {
	return &graph.Param{Name: name, Shape: []int{len(vals)}, Value: tensor.New(tensor.WithBacking(vals))}
}

// TestAdamMatchesPublishedRule replays Adam's update rule (Kingma & Ba,
// with PyTorch's bias correction) in float64 and compares three steps.
func TestAdamMatchesPublishedRule(t *testing.T) {
	p := param("w", 0.5, -1.5)
	grads := [][]float64{{0.1, -0.2}, {0.3, 0.0}, {-0.05, 0.4}}
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	want := []float64{0.5, -1.5}
	m, v := []float64{0, 0}, []float64{0, 0}
	opt := NewAdam()
	for step, g := range grads {
		g32 := []float32{float32(g[0]), float32(g[1])}
		require.NoError(t, opt.Step([]*graph.Param{p}, [][]float32{g32}, lr))
		tt := float64(step + 1)
		for j := range want {
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			mh := m[j] / (1 - math.Pow(b1, tt))
			vh := v[j] / (1 - math.Pow(b2, tt))
			want[j] -= lr * mh / (math.Sqrt(vh) + eps)
		}
		for j := range want {
			assert.InDelta(t, want[j], p.Data()[j], 1e-6, "step %d coord %d", step+1, j)
		}
	}
	assert.Equal(t, 3, opt.Steps())
}

func TestAdamFlushesSubnormals(t *testing.T) {
	p := param("w", 1, 2, 3)
	opt := NewAdam()
	require.NoError(t, opt.Step([]*graph.Param{p}, [][]float32{{1e-3, -1e-3, 5e-4}}, 1e-3))
	zero := [][]float32{{0, 0, 0}}
	// 0.9^n reaches the subnormal range after ~750 steps; run well past it.
	for i := 0; i < 3000; i++ {
		require.NoError(t, opt.Step([]*graph.Param{p}, zero, 1e-3))
	}
	for name, buf := range opt.State() {
		for i, x := range buf {
			ax := math.Abs(float64(x))
			assert.False(t, ax != 0 && ax < minNormal, "%s[%d] = %g is subnormal", name, i, x)
		}
	}
	for _, x := range p.Data() {
		assert.False(t, x != 0 && math.Abs(float64(x)) < minNormal)
	}
}

func TestAdamErrors(t *testing.T) {
	opt := NewAdam()
	p := param("w", 1, 2)
	assert.ErrorContains(t, opt.Step([]*graph.Param{p}, nil, 1e-3), "1 parameters but 0 gradients")
	assert.ErrorContains(t, opt.Step([]*graph.Param{p}, [][]float32{{1}}, 1e-3), "has 1 values, want 2")
	assert.ErrorContains(t, opt.Load(map[string][]float32{}, []*graph.Param{p}), "missing m/w")
}
