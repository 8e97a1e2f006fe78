package ops

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// upconvRun builds act(W ⋆ up(x) + b), either fused (UpsampleConv2dAct)
// or as Upsample then Conv2dAct, and returns y and the gradients of x, w
// and b of Σ r ⊙ y after a second run (runWeightedSum).
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
	y, gr := runWeightedSum(t, out, r, 2, x0, wt, b)
	return y, gr[0], gr[1], gr[2]
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
				require.True(t, slices.ContainsFunc(pair[0], func(v float32) bool { return v != 0 }), "%s is all zero", name)
				assertClose(t, pair[0], pair[1], 2e-5, name)
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
