package kernels

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAdamUpdateMatchesHandComputedStepAndFlushesSubnormals(t *testing.T) {
	p := []float32{1, -2, 0.5, 3}
	g := []float32{0.1, -0.2, 0, 1}
	m := []float32{0, 0, 1e-38, 0}
	v := []float32{0, 0, 1e-39, 0}
	const lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
	AdamUpdate(p, g, m, v, lr, b1, b2, eps, 1-b1, 1-b2, 0)
	// Step 1: m̂ = g, v̂ = g², so the update is lr·sign(g) (up to eps).
	assert.InDelta(t, 0.9, p[0], 1e-6)
	assert.InDelta(t, -1.9, p[1], 1e-6)
	assert.InDelta(t, 2.9, p[3], 1e-6)
	// 0.9·1e-38 is subnormal: flushed, so the zero-gradient parameter does not move.
	assert.Equal(t, float32(0), m[2])
	assert.Equal(t, float32(0), v[2])
	assert.Equal(t, float32(0.5), p[2])
	assert.InDelta(t, 0.01, m[0], 1e-8)
	assert.InDelta(t, 0.001*0.01, v[0], 1e-9)

	// Weight decay is added to the gradient (torch.optim.Adam): a zero gradient
	// with decay moves the parameter towards zero.
	q := []float32{2}
	AdamUpdate(q, []float32{0}, []float32{0}, []float32{0}, lr, b1, b2, eps, 1-b1, 1-b2, 0.5)
	assert.InDelta(t, 1.9, q[0], 1e-6)
}
