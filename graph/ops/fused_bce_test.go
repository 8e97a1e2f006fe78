package ops

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
		s += float64(t[i])*math.Log(p+BCEEps) + (1-float64(t[i]))*math.Log(1-p+BCEEps)
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
