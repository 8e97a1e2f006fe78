package graph

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bceRef64 is the float64 reference of BCELoss over sigmoid(z).
func bceRef64(z, t []float32, div int) float64 {
	var s float64
	for i, zi := range z {
		p := 1 / (1 + math.Exp(-float64(zi)))
		s += float64(t[i])*math.Log(p+bceEps) + (1-float64(t[i]))*math.Log(1-p+bceEps)
	}
	return -s / float64(div)
}

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

// TestBCELossGradientMatchesFiniteDifferences differentiates the fused loss
// through a sigmoid (as the decoders use it) and compares with central
// differences of the float64 reference.
func TestBCELossGradientMatchesFiniteDifferences(t *testing.T) {
	const n, d = 3, 7
	for _, perSample := range []bool{true, false} {
		t.Run(map[bool]string{true: "sum per sample", false: "mean"}[perSample], func(t *testing.T) {
			r := rand.New(rand.NewSource(5))
			zv := randSlice(r, n*d, 3)
			tv := bceTargets(r, n*d)
			div := n * d
			if perSample {
				div = n
			}
			g := gorgonia.NewGraph()
			z := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(n, d), tensor.WithBacking(zv)), gorgonia.WithName("z"))
			tg := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, d), gorgonia.WithName("t"),
				gorgonia.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(tv))))
			p := gorgonia.Must(gorgonia.Sigmoid(z))
			loss, err := BCELoss(p, tg, perSample)
			require.NoError(t, err)
			grads, err := gorgonia.Grad(loss, z)
			require.NoError(t, err)
			m := gorgonia.NewTapeMachine(g)
			defer m.Close()
			for run := range 2 { // reused op buffers must give the same figures
				require.NoError(t, m.RunAll())
				want := bceRef64(zv, tv, div)
				assert.InDelta(t, want, float64(*(loss.Value().(*gorgonia.F32))), 1e-5*math.Max(1, want), "loss, run %d", run)
				gv := grads[0].Value().Data().([]float32)
				for j := range zv {
					const eps = 1e-3
					orig := zv[j]
					zv[j] = orig + eps
					lp := bceRef64(zv, tv, div)
					zv[j] = orig - eps
					lm := bceRef64(zv, tv, div)
					zv[j] = orig
					fd := (lp - lm) / float64(float32(orig+eps)-float32(orig-eps))
					assert.InDelta(t, fd, float64(gv[j]), 2e-4+1e-3*math.Abs(fd), "element %d run %d", j, run)
				}
				m.Reset()
			}
		})
	}
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
			l, err = BCELoss(p, tg, true)
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

func TestBCELossRejectsBadInputs(t *testing.T) {
	g := gorgonia.NewGraph()
	p := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("p"))
	for _, tc := range []struct {
		name   string
		target *gorgonia.Node
		want   string
	}{
		{"shape", gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(3, 2), gorgonia.WithName("t32")), "same shape"},
		{"dtype", gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("t64")), "float32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BCELoss(p, tc.target, true)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
