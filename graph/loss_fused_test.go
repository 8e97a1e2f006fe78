package graph

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/graph/ops"
)

// bceTargets are image-like targets: zeros, ones and values in between, so
// both skipped terms and full terms are exercised.
func bceTargets(r *rand.Rand, n int) []float32 {
	t := make([]float32, n)
	for i := range t {
		switch r.Intn(3) {
		case 0:
		case 1:
			t[i] = 1
		default:
			t[i] = r.Float32()
		}
	}
	return t
}

// TestBCELossMatchesPlainGorgonia: on a batch large enough to take the
// parallel paths, the fused loss and its gradient equal BCEElems summed.
func TestBCELossMatchesPlainGorgonia(t *testing.T) {
	const n, d = 128, 784
	r := rand.New(rand.NewSource(9))
	pv := make([]float32, n*d)
	for i := range pv {
		pv[i] = r.Float32()
	}
	pv[0], pv[1] = 0, 1 // saturated outputs stay finite
	tv := bceTargets(r, n*d)
	run := func(fused bool) (float32, []float32) {
		g := gorgonia.NewGraph()
		p := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(n, d), tensor.WithBacking(append([]float32(nil), pv...))), gorgonia.WithName("p"))
		tg := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, d), gorgonia.WithName("t"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(tv))))
		var l *gorgonia.Node
		var err error
		if fused {
			l, err = ops.BCELoss(p, tg, true)
		} else {
			var e *gorgonia.Node
			e, err = BCEElems(p, tg)
			require.NoError(t, err)
			l, err = SumPerSample(e)
		}
		require.NoError(t, err)
		grads, err := gorgonia.Grad(l, p)
		require.NoError(t, err)
		m := gorgonia.NewTapeMachine(g)
		defer m.Close()
		require.NoError(t, m.RunAll())
		return float32(*(l.Value().(*gorgonia.F32))), append([]float32(nil), grads[0].Value().Data().([]float32)...)
	}
	lf, gf := run(true)
	lp, gp := run(false)
	require.False(t, math.IsInf(float64(lf), 0) || math.IsNaN(float64(lf)))
	assert.InEpsilon(t, lp, lf, 1e-5)
	require.Len(t, gf, len(gp))
	for i := range gp {
		require.InEpsilon(t, gp[i], gf[i], 1e-4, "gradient %d (p %g, t %g)", i, pv[i], tv[i])
	}
}
