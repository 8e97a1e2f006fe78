package ops

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Large enough (128×300 outputs) to take the multi-goroutine GEMM and
// elementwise paths; the fused graph must match plain Gorgonia ops.
func TestFusedLayerAndLossMatchPlainGorgonia(t *testing.T) {
	const n, in, out = 128, 50, 300
	r := rand.New(rand.NewSource(11))
	xv, wv, bv, tv := randSlice(r, n*in, 1), randSlice(r, in*out, 0.5), randSlice(r, out, 0.5), randSlice(r, n*out, 1)
	for _, act := range []Activation{ReLU, Sigmoid, Tanh, Identity} {
		t.Run(string(act), func(t *testing.T) {
			run := func(fused bool) (loss float32, y, dw, db []float32) {
				g := gorgonia.NewGraph()
				mk := func(name string, v []float32, shape ...int) *gorgonia.Node {
					return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), v...))), gorgonia.WithName(name))
				}
				x, w, b, tg := mk("x", xv, n, in), mk("w", wv, in, out), mk("b", bv, 1, out), mk("t", tv, n, out)
				var h, l *gorgonia.Node
				var err error
				if fused {
					h, err = DenseAct(x, w, b, act)
					require.NoError(t, err)
					l, err = MSELoss(h, tg)
					require.NoError(t, err)
				} else {
					z := gorgonia.Must(gorgonia.BroadcastAdd(gorgonia.Must(gorgonia.Mul(x, w)), b, nil, []byte{0}))
					switch act {
					case ReLU:
						h = gorgonia.Must(gorgonia.Rectify(z))
					case Sigmoid:
						h = gorgonia.Must(gorgonia.Sigmoid(z))
					case Tanh:
						h = gorgonia.Must(gorgonia.Tanh(z))
					default:
						h = z
					}
					l = gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(h, tg))))))
				}
				grads, err := gorgonia.Grad(l, w, b)
				require.NoError(t, err)
				// Plain Gorgonia recycles an intermediate's register once its last
				// reader ran, so the activation is captured with Read.
				var hv gorgonia.Value
				gorgonia.Read(h, &hv)
				m := gorgonia.NewTapeMachine(g)
				defer m.Close()
				require.NoError(t, m.RunAll())
				cp := func(nd *gorgonia.Node) []float32 {
					return append([]float32(nil), nd.Value().Data().([]float32)...)
				}
				return float32(*(l.Value().(*gorgonia.F32))), append([]float32(nil), hv.Data().([]float32)...), cp(grads[0]), cp(grads[1])
			}
			lf, yf, dwf, dbf := run(true)
			lp, yp, dwp, dbp := run(false)
			require.InEpsilon(t, lp, lf, 1e-5)
			require.InDeltaSlice(t, yp, yf, 2e-6)
			require.InDeltaSlice(t, dwp, dwf, 1e-6)
			require.InDeltaSlice(t, dbp, dbf, 1e-6)
		})
	}
}
