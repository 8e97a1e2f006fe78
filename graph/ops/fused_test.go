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

// ref64 is a float64 reference of the two-layer net loss = mean((act2(act1(x·w1+b1)·w2+b2) - t)²).
func ref64(x, w1, b1, w2, b2, t []float32, n, d, h int, a1, a2 Activation) float64 {
	act := func(a Activation, z float64) float64 {
		switch a {
		case ReLU:
			return math.Max(z, 0)
		case Sigmoid:
			return 1 / (1 + math.Exp(-z))
		case Tanh:
			return math.Tanh(z)
		}
		return z
	}
	var loss float64
	hid := make([]float64, h)
	for i := 0; i < n; i++ {
		for j := 0; j < h; j++ {
			z := float64(b1[j])
			for p := 0; p < d; p++ {
				z += float64(x[i*d+p]) * float64(w1[p*h+j])
			}
			hid[j] = act(a1, z)
		}
		for j := 0; j < d; j++ {
			z := float64(b2[j])
			for p := 0; p < h; p++ {
				z += hid[p] * float64(w2[p*d+j])
			}
			diff := act(a2, z) - float64(t[i*d+j])
			loss += diff * diff
		}
	}
	return loss / float64(n*d)
}

func TestDenseActMSEGradientsMatchFiniteDifferences(t *testing.T) {
	const n, d, h = 3, 21, 10 // rows of 21 and 10 exercise the 8-wide assembly paths and their tails
	acts := []Activation{ReLU, Sigmoid, Tanh, Identity}
	for _, a1 := range acts {
		for _, a2 := range acts {
			t.Run(string(a1)+"-"+string(a2), func(t *testing.T) {
				r := rand.New(rand.NewSource(7))
				rnd := func(k int) []float32 {
					s := make([]float32, k)
					for i := range s {
						s[i] = 2*r.Float32() - 1
					}
					return s
				}
				xv, tv := rnd(n*d), rnd(n*d)
				vals := [][]float32{rnd(d * h), rnd(h), rnd(h * d), rnd(d)}
				shapes := [][]int{{d, h}, {h}, {h, d}, {1, d}} // both bias layouts

				g := gorgonia.NewGraph()
				x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, d), gorgonia.WithName("x"),
					gorgonia.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(xv))))
				tg := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, d), gorgonia.WithName("t"),
					gorgonia.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(tv))))
				var ps gorgonia.Nodes
				for i, s := range shapes {
					v := tensor.New(tensor.WithShape(s...), tensor.WithBacking(vals[i]))
					ps = append(ps, gorgonia.NodeFromAny(g, v, gorgonia.WithName(string(rune('p'+i)))))
				}
				h1, err := DenseAct(x, ps[0], ps[1], a1)
				require.NoError(t, err)
				out, err := DenseAct(h1, ps[2], ps[3], a2)
				require.NoError(t, err)
				loss, err := MSELoss(out, tg)
				require.NoError(t, err)
				grads, err := gorgonia.Grad(loss, ps...)
				require.NoError(t, err)
				m := gorgonia.NewTapeMachine(g)
				defer m.Close()

				// Run twice through Reset: reused op buffers must give identical results.
				for run := 0; run < 2; run++ {
					require.NoError(t, m.RunAll())
					want := ref64(xv, vals[0], vals[1], vals[2], vals[3], tv, n, d, h, a1, a2)
					got := float64(*(loss.Value().(*gorgonia.F32)))
					assert.InDelta(t, want, got, 1e-5*math.Max(1, want), "loss, run %d", run)
					for i, gn := range grads {
						gv := gn.Value().Data().([]float32)
						require.Len(t, gv, len(vals[i]))
						for j := range vals[i] {
							const eps = 1e-3
							orig := vals[i][j]
							vals[i][j] = orig + eps
							lp := ref64(xv, vals[0], vals[1], vals[2], vals[3], tv, n, d, h, a1, a2)
							vals[i][j] = orig - eps
							lm := ref64(xv, vals[0], vals[1], vals[2], vals[3], tv, n, d, h, a1, a2)
							vals[i][j] = orig
							fd := (lp - lm) / float64(float32(orig+eps)-float32(orig-eps))
							assert.InDelta(t, fd, float64(gv[j]), 2e-4+1e-3*math.Abs(fd), "param %d element %d run %d", i, j, run)
						}
					}
					m.Reset()
				}
			})
		}
	}
}

func TestDenseActRejectsBadInputs(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("x"))
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(3, 4), gorgonia.WithName("w"))
	wBad := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(5, 4), gorgonia.WithName("wbad"))
	b := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(4), gorgonia.WithName("b"))
	bBad := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3), gorgonia.WithName("bbad"))
	x64 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("x64"))
	cases := []struct {
		name    string
		x, w, b *gorgonia.Node
		act     Activation
		msg     string
	}{
		{"unknown activation", x, w, b, "gelu", "unknown"},
		{"inner mismatch", x, wBad, b, ReLU, "must match"},
		{"bias mismatch", x, w, bBad, ReLU, "bias"},
		{"float64", x64, w, b, ReLU, "float32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DenseAct(c.x, c.w, c.b, c.act)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
	_, err := MSELoss(x, gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(3, 2), gorgonia.WithName("t")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "same shape")
}
