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

type convCase struct {
	n, inC, outC, h, w, k, stride, pad int
	act                                Activation
}

func (c convCase) String() string {
	return fmt.Sprintf("n%d_c%d-%d_%dx%d_k%d_s%d_p%d_%s", c.n, c.inC, c.outC, c.h, c.w, c.k, c.stride, c.pad, c.act)
}

func (c convCase) out() (int, int) {
	return (c.h+2*c.pad-c.k)/c.stride + 1, (c.w+2*c.pad-c.k)/c.stride + 1
}

// convData is one case's random inputs: x, w, b and the weights r of the
// loss Σ r ⊙ y, which make every output's gradient distinct.
type convData struct{ x, w, b, r []float32 }

func newConvData(c convCase, seed int64) convData {
	rng := rand.New(rand.NewSource(seed))
	rnd := func(k int, scale float32) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = scale * (2*rng.Float32() - 1)
		}
		return s
	}
	oh, ow := c.out()
	return convData{
		x: rnd(c.n*c.inC*c.h*c.w, 1),
		w: rnd(c.outC*c.inC*c.k*c.k, 0.5),
		b: rnd(c.outC, 0.3),
		r: rnd(c.n*c.outC*oh*ow, 1),
	}
}

// convRef64 is act(W ⋆ x + b) in float64, straight from the definition.
func convRef64(c convCase, x, w, b []float64) []float64 {
	oh, ow := c.out()
	y := make([]float64, c.n*c.outC*oh*ow)
	for i := 0; i < c.n; i++ {
		for o := 0; o < c.outC; o++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					z := b[o]
					for ci := 0; ci < c.inC; ci++ {
						for ki := 0; ki < c.k; ki++ {
							for kj := 0; kj < c.k; kj++ {
								iy, ix := oy*c.stride-c.pad+ki, ox*c.stride-c.pad+kj
								if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
									continue
								}
								z += w[((o*c.inC+ci)*c.k+ki)*c.k+kj] * x[((i*c.inC+ci)*c.h+iy)*c.w+ix]
							}
						}
					}
					switch c.act {
					case ReLU:
						z = math.Max(z, 0)
					case Sigmoid:
						z = 1 / (1 + math.Exp(-z))
					case Tanh:
						z = math.Tanh(z)
					}
					y[((i*c.outC+o)*oh+oy)*ow+ox] = z
				}
			}
		}
	}
	return y
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// convRun builds loss = Σ r ⊙ conv(x) with either the fused op or Gorgonia's
// own Conv2d + BroadcastAdd + activation (the previous Conv2d.Forward), and
// returns y and the gradients of x, w, b. x is made non-leaf by a copying
// reshape so that its gradient is computed.
func convRun(t *testing.T, c convCase, d convData, fused bool, runs int) (y, dx, dw, db []float32) {
	t.Helper()
	g := gorgonia.NewGraph()
	oh, ow := c.out()
	tn := func(name string, data []float32, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), data...)))))
	}
	x0 := tn("x", d.x, c.n, c.inC, c.h, c.w)
	w := tn("w", d.w, c.outC, c.inC, c.k, c.k)
	b := tn("b", d.b, c.outC)
	r := tn("r", d.r, c.n, c.outC, oh, ow)
	x, err := Reshape(x0, c.n, c.inC, c.h, c.w)
	require.NoError(t, err)
	var out *gorgonia.Node
	if fused {
		out, err = Conv2dAct(x, w, b, c.stride, c.pad, c.act)
		require.NoError(t, err)
	} else {
		out, err = gorgonia.Conv2d(x, w, tensor.Shape{c.k, c.k}, []int{c.pad, c.pad}, []int{c.stride, c.stride}, []int{1, 1})
		require.NoError(t, err)
		out, err = gorgonia.BroadcastAdd(out, b, nil, []byte{0, 2, 3})
		require.NoError(t, err)
		out, err = c.act.Apply(out)
		require.NoError(t, err)
	}
	y, gr := runWeightedSum(t, out, r, runs, x0, w, b)
	return y, gr[0], gr[1], gr[2]
}

// runWeightedSum builds loss = Σ r ⊙ out on out's graph, runs it runs
// times (later runs reuse every op-owned buffer; the gradient buffers are
// cleared between runs, as training does) and returns out's value and the
// gradients of wrt from the last run.
func runWeightedSum(t *testing.T, out, r *gorgonia.Node, runs int, wrt ...*gorgonia.Node) (y []float32, grads [][]float32) {
	t.Helper()
	prod, err := gorgonia.HadamardProd(out, r)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(prod)
	require.NoError(t, err)
	_, err = gorgonia.Grad(loss, wrt...)
	require.NoError(t, err)
	var yv gorgonia.Value
	gorgonia.Read(out, &yv)
	vm := gorgonia.NewTapeMachine(out.Graph(), gorgonia.BindDualValues(wrt...))
	defer vm.Close()
	grads = make([][]float32, len(wrt))
	for range runs {
		require.NoError(t, vm.RunAll())
		y = append(y[:0], yv.Data().([]float32)...)
		for i, n := range wrt {
			v, err := n.Grad()
			require.NoError(t, err)
			grads[i] = append(grads[i][:0], v.Data().([]float32)...)
			clear(v.Data().([]float32))
		}
		vm.Reset()
	}
	return y, grads
}

func assertClose(t *testing.T, want, got []float32, tol float64, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(want[i] - got[i])); d > tol*math.Max(scale, 1e-3) {
			assert.Failf(t, "values differ", "%s[%d]: want %v, got %v (largest |want| %v)", what, i, want[i], got[i], scale)
			return
		}
	}
}

var convCases = []convCase{
	{2, 1, 3, 5, 5, 3, 1, 1, Identity},
	{2, 2, 3, 5, 6, 3, 2, 1, ReLU},
	{3, 3, 4, 7, 7, 3, 2, 1, Sigmoid},
	{2, 2, 2, 6, 5, 2, 2, 0, Tanh},
	{1, 2, 3, 9, 8, 5, 3, 2, Tanh},
	{2, 1, 2, 4, 4, 4, 1, 0, ReLU},
	{2, 3, 2, 3, 3, 3, 1, 2, Sigmoid}, // padding wider than needed: border outputs see only zeros
	{2, 2, 5, 1, 1, 1, 1, 0, Identity},
	{1, 1, 1, 3, 3, 5, 1, 1, ReLU}, // kernel larger than the image, fits only with padding
	// Stride 1 with output as large as the input takes im2col's shifted-copy path.
	{2, 2, 3, 6, 7, 5, 1, 2, ReLU},
	{3, 2, 4, 9, 8, 3, 1, 1, Sigmoid},
	{2, 1, 2, 1, 5, 3, 1, 1, Identity}, // one row: every kernel row but the middle reads padding
	// One or two channels out of a same convolution skip im2col (conv_direct.go).
	{3, 3, 1, 6, 7, 3, 1, 1, Sigmoid},
	{2, 2, 1, 5, 4, 5, 1, 2, ReLU},
	{2, 2, 2, 2, 6, 5, 1, 2, Tanh}, // the 5×5 kernel's outer rows and columns read only padding
	// Stride 1 with pad ≥ k − 1 and a larger output takes the shared-padding
	// path (one flat copy per im2col row): the phase convolution's k 2, pad 1.
	{2, 3, 4, 5, 6, 2, 1, 1, ReLU},
	{2, 2, 3, 1, 4, 2, 1, 1, Sigmoid},
	{1, 2, 3, 4, 3, 3, 1, 3, Identity},
}

// TestConv2dActMatchesGorgonia compares the fused op with the Gorgonia path
// Conv2d.Forward used before, forward and all three gradients, including a
// batch large enough to be split across cores.
func TestConv2dActMatchesGorgonia(t *testing.T) {
	cases := append([]convCase{{24, 3, 8, 14, 14, 3, 2, 1, ReLU}, {12, 4, 6, 10, 9, 3, 1, 1, Tanh},
		{20, 4, 1, 12, 11, 3, 1, 1, Sigmoid}, {16, 6, 12, 7, 7, 2, 1, 1, ReLU}}, convCases...)
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			d := newConvData(c, int64(i+1))
			y0, dx0, dw0, db0 := convRun(t, c, d, false, 2)
			y1, dx1, dw1, db1 := convRun(t, c, d, true, 2) // the second run reuses every buffer
			assertClose(t, y0, y1, 1e-4, "y")
			assertClose(t, dx0, dx1, 1e-4, "dx")
			assertClose(t, dw0, dw1, 1e-4, "dw")
			assertClose(t, db0, db1, 1e-4, "db")
		})
	}
}

// TestConv2dActFiniteDifferences checks the fused op's forward pass against a
// float64 definition of the convolution and every gradient coordinate of x,
// w and b against central differences of that definition.
func TestConv2dActFiniteDifferences(t *testing.T) {
	for i, c := range convCases {
		t.Run(c.String(), func(t *testing.T) {
			d := newConvData(c, int64(100+i))
			y, dx, dw, db := convRun(t, c, d, true, 1)
			x64, w64, b64, r64 := to64(d.x), to64(d.w), to64(d.b), to64(d.r)
			want := convRef64(c, x64, w64, b64)
			got := to64(y)
			assert.InDeltaSlice(t, want, got, 2e-5)
			loss := func() float64 {
				var s float64
				for j, v := range convRef64(c, x64, w64, b64) {
					s += r64[j] * v
				}
				return s
			}
			const h = 1e-6
			for _, p := range []struct {
				name     string
				v        []float64
				analytic []float32
			}{{"x", x64, dx}, {"w", w64, dw}, {"b", b64, db}} {
				num := make([]float32, len(p.v))
				for j := range p.v {
					orig := p.v[j]
					p.v[j] = orig + h
					up := loss()
					p.v[j] = orig - h
					down := loss()
					p.v[j] = orig
					num[j] = float32((up - down) / (2 * h))
				}
				assertClose(t, num, p.analytic, 1e-4, "d"+p.name)
			}
		})
	}
}

// TestConv2dActLeafInput checks that a leaf x gets no gradient node while w
// and b get the same gradients as with a computed x.
func TestConv2dActLeafInput(t *testing.T) {
	c := convCase{3, 2, 4, 6, 6, 3, 2, 1, ReLU}
	d := newConvData(c, 9)
	_, _, dwRef, dbRef := convRun(t, c, d, true, 1)

	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(c.n, c.inC, c.h, c.w), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(c.n, c.inC, c.h, c.w), tensor.WithBacking(d.x))))
	w := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(c.outC, c.inC, c.k, c.k), gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(c.outC, c.inC, c.k, c.k), tensor.WithBacking(d.w))))
	b := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(c.outC), gorgonia.WithName("b"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(c.outC), tensor.WithBacking(d.b))))
	oh, ow := c.out()
	r := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(c.n, c.outC, oh, ow), gorgonia.WithName("r"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(c.n, c.outC, oh, ow), tensor.WithBacking(d.r))))
	y, err := Conv2dAct(x, w, b, c.stride, c.pad, c.act)
	require.NoError(t, err)
	op, ok := y.Op().(*convOp)
	require.True(t, ok)
	assert.False(t, op.needDX)
	prod, err := gorgonia.HadamardProd(y, r)
	require.NoError(t, err)
	loss, err := gorgonia.Sum(prod)
	require.NoError(t, err)
	_, err = gorgonia.Grad(loss, w, b)
	require.NoError(t, err)
	for _, n := range g.AllNodes() {
		_, isDX := n.Op().(*convDXOp)
		assert.False(t, isDX, "a leaf input must not get a dx node")
	}
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w, b))
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	gw, err := w.Grad()
	require.NoError(t, err)
	gb, err := b.Grad()
	require.NoError(t, err)
	assert.Equal(t, dwRef, gw.Data().([]float32))
	assert.Equal(t, dbRef, gb.Data().([]float32))
}

func TestConv2dActErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	node := func(shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...))
	}
	x, w, b := node(2, 3, 5, 5), node(4, 3, 3, 3), node(4)
	x64 := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(2, 3, 5, 5))
	for _, tc := range []struct {
		name        string
		x, w, b     *gorgonia.Node
		stride, pad int
		act         Activation
		want        string
	}{
		{"activation", x, w, b, 1, 1, "softmax", `activation "softmax" unknown`},
		{"x dims", node(2, 75), w, b, 1, 1, ReLU, "must both have 4 dimensions"},
		{"square", x, node(4, 3, 3, 2), b, 1, 1, ReLU, "must be square"},
		{"channels", node(2, 2, 5, 5), w, b, 1, 1, ReLU, "has 2 channels but w"},
		{"bias", x, w, node(3), 1, 1, ReLU, "bias (3) must be (4)"},
		{"stride", x, w, b, 0, 1, ReLU, "stride 0 must be positive"},
		{"pad", x, w, b, 1, -1, ReLU, "pad -1 non-negative"},
		{"dtype", x64, w, b, 1, 1, ReLU, "must be float32"},
		{"too small", node(2, 3, 2, 2), w, b, 1, 0, ReLU, "smaller than the 3×3 kernel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Conv2dAct(tc.x, tc.w, tc.b, tc.stride, tc.pad, tc.act)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// BenchmarkConv2dAct times forward and backward (dx, dw, db) of each
// convolution of the default conv model on a training batch of 128.
func BenchmarkConv2dAct(b *testing.B) {
	for _, tc := range []struct {
		name string
		c    convCase
	}{
		{"encoder0", convCase{128, 1, 32, 28, 28, 3, 2, 1, ReLU}},
		{"encoder1", convCase{128, 32, 64, 14, 14, 3, 2, 1, ReLU}},
		{"decoder0", convCase{128, 64, 32, 14, 14, 3, 1, 1, ReLU}},
		{"decoder1", convCase{128, 32, 1, 28, 28, 3, 1, 1, Sigmoid}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchConv(b, tc.c) })
	}
}

func benchConv(b *testing.B, c convCase) {
	d := newConvData(c, 1)
	g := gorgonia.NewGraph()
	mk := func(data []float32, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...),
			gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))))
	}
	x0 := mk(d.x, c.n, c.inC, c.h, c.w)
	w, bias := mk(d.w, c.outC, c.inC, c.k, c.k), mk(d.b, c.outC)
	x, err := Reshape(x0, c.n, c.inC, c.h, c.w) // an op's output, so dx is computed too
	require.NoError(b, err)
	y, err := Conv2dAct(x, w, bias, c.stride, c.pad, c.act)
	require.NoError(b, err)
	loss, err := gorgonia.Sum(y)
	require.NoError(b, err)
	_, err = gorgonia.Grad(loss, w, bias, x0)
	require.NoError(b, err)
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w, bias, x0))
	defer vm.Close()
	for b.Loop() {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}
