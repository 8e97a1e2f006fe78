package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// upconvRun builds loss = Σ r ⊙ act(W ⋆ up(x) + b), either fused
// (UpsampleConv2dAct) or as Upsample then Conv2dAct, runs it twice (the
// second run reuses every op-owned buffer) and returns y and the gradients
// of x, w and b.
func upconvRun(t *testing.T, n, inC, outC, h, w int, act Activation, fused bool, seed int64) (y, dx, dw, db []float32) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	rnd := func(k int, scale float32) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = scale * (2*rng.Float32() - 1)
		}
		return s
	}
	g := gorgonia.NewGraph()
	tn := func(name string, data []float32, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))))
	}
	x0 := tn("x", rnd(n*inC*h*w, 1), n, inC, h, w)
	wt := tn("w", rnd(outC*inC*9, 0.5), outC, inC, 3, 3)
	b := tn("b", rnd(outC, 0.3), outC)
	r := tn("r", rnd(n*outC*4*h*w, 1), n, outC, 2*h, 2*w)
	x, err := Reshape(x0, n, inC, h, w) // not a leaf: its gradient is computed
	require.NoError(t, err)
	var out *gorgonia.Node
	if fused {
		out, err = UpsampleConv2dAct(x, wt, b, act)
	} else {
		var up *gorgonia.Node
		up, err = Upsample(x, 2*h, 2*w)
		require.NoError(t, err)
		out, err = Conv2dAct(up, wt, b, 1, 1, act)
	}
	require.NoError(t, err)
	require.Equal(t, tensor.Shape{n, outC, 2 * h, 2 * w}, out.Shape())
	prod, err := gorgonia.HadamardProd(out, r)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(prod)
	require.NoError(t, err)
	_, err = gorgonia.Grad(loss, x0, wt, b)
	require.NoError(t, err)
	var yv gorgonia.Value
	gorgonia.Read(out, &yv)
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(x0, wt, b))
	defer vm.Close()
	grad := func(n *gorgonia.Node) []float32 {
		v, err := n.Grad()
		require.NoError(t, err)
		return append([]float32(nil), v.Data().([]float32)...)
	}
	for range 2 {
		require.NoError(t, vm.RunAll())
		y, dx, dw, db = append([]float32(nil), yv.Data().([]float32)...), grad(x0), grad(wt), grad(b)
		for _, p := range []*gorgonia.Node{x0, wt, b} {
			v, err := p.Grad()
			require.NoError(t, err)
			clear(v.Data().([]float32))
		}
		vm.Reset()
	}
	return y, dx, dw, db
}

// TestUpsampleConvMatchesUpsampleThenConv: the phase-decomposed
// convolution gives the values and gradients of upsampling and then
// convolving, for the decoder's shapes and odd sides, every activation.
func TestUpsampleConvMatchesUpsampleThenConv(t *testing.T) {
	for _, c := range []struct {
		n, inC, outC, h, w int
		act                Activation
	}{
		{3, 64, 32, 7, 7, ReLU},     // the conv decoder's first stage
		{2, 32, 1, 14, 14, Sigmoid}, // its last, one output channel
		{2, 3, 5, 5, 3, Tanh},
		{1, 2, 9, 1, 1, Identity},
	} {
		t.Run(fmt.Sprintf("n%d_c%d-%d_%dx%d_%s", c.n, c.inC, c.outC, c.h, c.w, c.act), func(t *testing.T) {
			yf, dxf, dwf, dbf := upconvRun(t, c.n, c.inC, c.outC, c.h, c.w, c.act, true, 11)
			yp, dxp, dwp, dbp := upconvRun(t, c.n, c.inC, c.outC, c.h, c.w, c.act, false, 11)
			for name, pair := range map[string][2][]float32{"y": {yp, yf}, "dx": {dxp, dxf}, "dw": {dwp, dwf}, "db": {dbp, dbf}} {
				require.Len(t, pair[1], len(pair[0]), name)
				var scale float64
				for _, v := range pair[0] {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				require.Positive(t, scale, name)
				for i := range pair[0] {
					require.InDelta(t, pair[0][i], pair[1][i], 2e-5*scale, "%s[%d]", name, i)
				}
			}
		})
	}
}

func TestUpsampleConvRejectsBadShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(2, 3, 4, 4), gorgonia.WithName("x"))
	w5 := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(5, 3, 5, 5), gorgonia.WithName("w5"))
	w := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(5, 3, 3, 3), gorgonia.WithName("w"))
	b := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(4), gorgonia.WithName("b"))
	_, err := UpsampleConv2dAct(x, w5, b, ReLU)
	assert.ErrorContains(t, err, "OutC×C×3×3")
	_, err = UpsampleConv2dAct(x, w, b, ReLU)
	assert.ErrorContains(t, err, "one value per output channel (5)")
}
