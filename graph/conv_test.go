package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/internal/gradcheck"
)

// run evaluates the nodes of g once and returns their values.
func run(t *testing.T, g *G.ExprGraph, nodes ...*G.Node) [][]float32 {
	t.Helper()
	vals := make([]G.Value, len(nodes))
	for i, n := range nodes {
		G.Read(n, &vals[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	out := make([][]float32, len(nodes))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case []float32:
			out[i] = append([]float32(nil), d...)
		case float32:
			out[i] = []float32{d}
		}
	}
	return out
}

func image(g *G.ExprGraph, name string, data []float32, shape ...int) *G.Node {
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))))
}

func TestConv2dValues(t *testing.T) {
	ps := graph.NewParams()
	c, err := graph.NewConv2d(ps, "c", 1, 1, 3, 2, 1, graph.Identity, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	for i := range c.W.Data() {
		c.W.Data()[i] = 1
	}
	c.B.Data()[0] = 0.5
	h, w, err := c.OutSize(3, 3)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2}, []int{h, w})
	g := G.NewGraph()
	y, err := c.Forward(ps, image(g, "x", []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3))
	require.NoError(t, err)
	assert.Equal(t, tensor.Shape{1, 1, 2, 2}, y.Shape())
	// Each output sums the 2×2 corner of the padded 3×3 window it sees.
	assert.Equal(t, []float32{12.5, 16.5, 24.5, 28.5}, run(t, g, y)[0])
}

func TestConv2dShapes(t *testing.T) {
	ps := graph.NewParams()
	rng := rand.New(rand.NewPCG(1, 2))
	c, err := graph.NewConv2d(ps, "c", 3, 4, 3, 2, 1, graph.ReLU, rng)
	require.NoError(t, err)
	assert.Equal(t, []int{4, 3, 3, 3}, c.W.Shape)
	for _, tc := range []struct{ in, out int }{{28, 14}, {14, 7}, {7, 4}, {32, 16}, {30, 15}, {15, 8}, {1, 1}} {
		h, w, err := c.OutSize(tc.in, tc.in+1)
		require.NoError(t, err)
		assert.Equal(t, tc.out, h, "height %d", tc.in)
		assert.Equal(t, (tc.in+1+1)/2, w, "width %d", tc.in+1)
	}
	g := G.NewGraph()
	_, err = c.Forward(ps, image(g, "x", make([]float32, 2*2*5*5), 2, 2, 5, 5))
	assert.ErrorContains(t, err, "want (batch, 3, height, width)")
	big, err := graph.NewConv2d(ps, "big", 1, 1, 5, 1, 0, graph.ReLU, rng)
	require.NoError(t, err)
	_, _, err = big.OutSize(3, 8)
	assert.ErrorContains(t, err, "smaller than the 5×5 kernel")
	_, err = graph.NewConv2d(ps, "bad", 1, 1, 3, 0, 1, graph.ReLU, rng)
	assert.ErrorContains(t, err, "stride 0")
}

func TestUpsampleValues(t *testing.T) {
	g := G.NewGraph()
	x := image(g, "x", []float32{1, 2, 3, 4, 5, 6, 7, 8}, 1, 2, 2, 2)
	up2, err := graph.Upsample(x, 4, 4)
	require.NoError(t, err)
	up3, err := graph.Upsample(x, 3, 4)
	require.NoError(t, err)
	out := run(t, g, up2, up3)
	assert.Equal(t, []float32{
		1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
		5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8,
	}, out[0])
	// 2 → 3 rows copies rows 0, 0, 1 (⌊i·2/3⌋).
	assert.Equal(t, []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8}, out[1])
	_, err = graph.Upsample(x, 1, 4)
	assert.ErrorContains(t, err, "cannot shrink")
}

func TestConvUpsampleGradients(t *testing.T) {
	// conv (stride 2) → flatten → dense → unflatten → upsample → conv → loss
	// covers every block a conv autoencoder is made of, on an odd size.
	ps := graph.NewParams()
	rng := rand.New(rand.NewPCG(5, 6))
	c1, err := graph.NewConv2d(ps, "c1", 2, 3, 3, 2, 1, graph.Tanh, rng)
	require.NoError(t, err)
	d, err := graph.NewDense(ps, "d", 3*3*3, 2*3*3, graph.Sigmoid, rng)
	require.NoError(t, err)
	c2, err := graph.NewConv2d(ps, "c2", 2, 2, 3, 1, 1, graph.Sigmoid, rng)
	require.NoError(t, err)
	for _, p := range ps.List() {
		for i := range p.Data() {
			p.Data()[i] += float32(0.1 * rng.NormFloat64())
		}
	}
	res, err := gradcheck.Check(ps, func(g *G.ExprGraph) (*G.Node, func(), error) {
		x := fixedInput(g, "x", 2, 2*5*5, 1)
		x4, err := G.Reshape(x, tensor.Shape{2, 2, 5, 5})
		if err != nil {
			return nil, nil, err
		}
		h, err := c1.Forward(ps, x4)
		if err != nil {
			return nil, nil, err
		}
		if h, err = graph.Flatten(h); err != nil {
			return nil, nil, err
		}
		if h, err = d.Forward(ps, h); err != nil {
			return nil, nil, err
		}
		if h, err = graph.Unflatten(h, 2, 3, 3); err != nil {
			return nil, nil, err
		}
		if h, err = graph.Upsample(h, 5, 5); err != nil {
			return nil, nil, err
		}
		if h, err = c2.Forward(ps, h); err != nil {
			return nil, nil, err
		}
		if h, err = graph.Flatten(h); err != nil {
			return nil, nil, err
		}
		l, err := graph.BCESum(h, x)
		return l, func() {}, err
	}, 12, 1e-2, 3)
	require.NoError(t, err)
	assert.Less(t, res.RelErr, 0.02, "analytic %v\nnumeric  %v", res.Analytic, res.Numeric)
}

func TestVAETermValues(t *testing.T) {
	g := G.NewGraph()
	mu := image(g, "mu", []float32{0, 1, -2, 0.5}, 2, 2)
	logvar := image(g, "logvar", []float32{0, float32(math.Log(4)), 0, -1}, 2, 2)
	eps := image(g, "eps", []float32{1, -1, 0.5, 2}, 2, 2)
	z, err := graph.Reparameterize(mu, logvar, eps)
	require.NoError(t, err)
	kl, err := graph.GaussianKL(mu, logvar)
	require.NoError(t, err)
	out := run(t, g, z, kl)
	e := math.Exp(-0.5)
	assert.InDeltaSlice(t, []float32{1, -1, -1.5, float32(0.5 + 2*e)}, out[0], 1e-6)
	// Per-element KL ½(mu² + σ² − 1 − log σ²), summed per sample, averaged.
	want := (0 + 0.5*(1+4-1-math.Log(4)) + 0.5*4 + 0.5*(0.25+math.Exp(-1)-1+1)) / 2
	assert.InDelta(t, want, out[1][0], 1e-5)

	_, err = graph.Reparameterize(mu, logvar, image(g, "e3", make([]float32, 6), 2, 3))
	assert.ErrorContains(t, err, "same shape")
}

func TestSparsityValues(t *testing.T) {
	g := G.NewGraph()
	z := image(g, "z", []float32{0.1, -0.3, 0.2, 0.5}, 2, 2)
	l1, err := graph.L1Activity(z)
	require.NoError(t, err)
	zs := image(g, "zs", []float32{0.1, 0.3, 0.3, 0.5}, 2, 2)
	kl, err := graph.KLSparsity(zs, 0.2)
	require.NoError(t, err)
	out := run(t, g, l1, kl)
	assert.InDelta(t, 0.55, out[0][0], 1e-6)
	klb := func(r, h float64) float64 { return r*math.Log(r/h) + (1-r)*math.Log((1-r)/(1-h)) }
	assert.InDelta(t, klb(0.2, 0.2)+klb(0.2, 0.4), out[1][0], 1e-5)
	_, err = graph.KLSparsity(zs, 1)
	assert.ErrorContains(t, err, "(0, 1)")
}

// TestReshapeAfterActivation guards the reason graph.Reshape copies: with
// Gorgonia's aliasing Reshape, tanh → reshape → square got gradients off by
// a factor of two or more.
func TestReshapeAfterActivation(t *testing.T) {
	ps := graph.NewParams()
	c, err := graph.NewConv2d(ps, "c", 2, 3, 3, 2, 1, graph.Tanh, rand.New(rand.NewPCG(5, 6)))
	require.NoError(t, err)
	res, err := gradcheck.Check(ps, func(g *G.ExprGraph) (*G.Node, func(), error) {
		x, err := graph.Reshape(fixedInput(g, "x", 2, 2*5*5, 1), 2, 2, 5, 5)
		if err != nil {
			return nil, nil, err
		}
		h, err := c.Forward(ps, x)
		if err != nil {
			return nil, nil, err
		}
		if h, err = graph.Flatten(h); err != nil {
			return nil, nil, err
		}
		sq, err := G.Square(h)
		if err != nil {
			return nil, nil, err
		}
		l, err := G.Sum(sq)
		return l, func() {}, err
	}, 12, 1e-2, 3)
	require.NoError(t, err)
	assert.Less(t, res.RelErr, 1e-3, "analytic %v\nnumeric  %v", res.Analytic, res.Numeric)
	_, err = graph.Reshape(G.NewMatrix(G.NewGraph(), tensor.Float32, G.WithShape(2, 3)), 4, 2)
	assert.ErrorContains(t, err, "cannot reshape")
}
