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

// fixedInput is a batch×dim input node holding values in (0.05, 0.95), which
// also serve as BCE targets.
func fixedInput(g *G.ExprGraph, name string, batch, dim int, seed uint64) *G.Node {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float32, batch*dim)
	for i := range data {
		data[i] = float32(0.05 + 0.9*rng.Float64())
	}
	return G.NewMatrix(g, tensor.Float32, G.WithShape(batch, dim), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(batch, dim), tensor.WithBacking(data))))
}

func TestDenseGradients(t *testing.T) {
	for _, act := range []graph.Activation{graph.ReLU, graph.Sigmoid, graph.Tanh, graph.Identity} {
		for _, loss := range []graph.Loss{graph.LossMSE, graph.LossBCE} {
			t.Run(string(act)+"/"+string(loss), func(t *testing.T) {
				ps := graph.NewParams()
				rng := rand.New(rand.NewPCG(3, 4))
				mlp, err := graph.NewMLP(ps, "mlp", []int{6, 5, 4}, act, graph.Sigmoid, rng)
				require.NoError(t, err)
				// Non-zero biases so every term of the gradient is exercised.
				for _, p := range ps.List() {
					for i := range p.Data() {
						p.Data()[i] += float32(0.1 * rng.NormFloat64())
					}
				}
				res, err := gradcheck.Check(ps, func(g *G.ExprGraph) (*G.Node, func(), error) {
					x := fixedInput(g, "x", 3, 6, 1)
					y, err := mlp.Forward(ps, x)
					if err != nil {
						return nil, nil, err
					}
					l, err := loss.Build(y, fixedInput(g, "t", 3, 4, 2))
					return l, func() {}, err
				}, 20, 1e-2, 9)
				require.NoError(t, err)
				assert.Less(t, res.RelErr, 0.02, "analytic %v\nnumeric  %v", res.Analytic, res.Numeric)
			})
		}
	}
}

func TestLossValues(t *testing.T) {
	g := G.NewGraph()
	p := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("p"), G.WithValue(tensor.New(tensor.WithBacking([]float32{0.25, 0.5}))))
	q := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("q"), G.WithValue(tensor.New(tensor.WithBacking([]float32{1, 0}))))
	mse, err := graph.MSE(p, q)
	require.NoError(t, err)
	bce, err := graph.BCE(p, q)
	require.NoError(t, err)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	// ((0.25-1)² + 0.5²)/2 and -(log 0.25 + log 0.5)/2.
	assert.InDelta(t, (0.5625+0.25)/2, mse.Value().Data().(float32), 1e-6)
	assert.InDelta(t, -(math.Log(0.25)+math.Log(0.5))/2, bce.Value().Data().(float32), 1e-5)
}

func TestParams(t *testing.T) {
	ps := graph.NewParams()
	rng := rand.New(rand.NewPCG(1, 2))
	w, err := ps.New("w", []int{200, 100}, graph.HeNormal, 200, 100, rng)
	require.NoError(t, err)
	var sum, sq float64
	for _, v := range w.Data() {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(w.Size())
	assert.InDelta(t, 0, sum/n, 0.01)
	assert.InDelta(t, math.Sqrt(2.0/200), math.Sqrt(sq/n), 0.005, "He normal std")

	u, err := ps.New("u", []int{50, 50}, graph.GlorotUniform, 50, 50, rng)
	require.NoError(t, err)
	limit := float32(math.Sqrt(6.0 / 100))
	for _, v := range u.Data() {
		require.LessOrEqual(t, v, limit)
		require.GreaterOrEqual(t, v, -limit)
	}
	assert.Equal(t, 200*100+50*50, ps.Count())

	f, err := ps.New("f", []int{400, 20}, graph.FanInUniform, 400, 20, rng)
	require.NoError(t, err)
	flimit := float32(1 / math.Sqrt(400))
	var fmax float32
	for _, v := range f.Data() {
		require.LessOrEqual(t, v, flimit)
		require.GreaterOrEqual(t, v, -flimit)
		fmax = max(fmax, v)
	}
	assert.Greater(t, fmax, 0.9*flimit, "fills U(-1/sqrt(fan_in), 1/sqrt(fan_in))")

	_, err = ps.New("w", []int{1}, graph.Zeros, 1, 1, rng)
	assert.ErrorContains(t, err, "defined twice")
	_, err = ps.New("bad", []int{0, 3}, graph.Zeros, 1, 1, rng)
	assert.ErrorContains(t, err, "non-positive")
	_, err = ps.New("bad2", []int{3}, "lecun", 1, 1, rng)
	assert.ErrorContains(t, err, "unknown initialisation")
}

// TestSchemes checks which initialisation each scheme gives a layer's
// weights and bias.
func TestSchemes(t *testing.T) {
	for _, tc := range []struct {
		scheme     string
		act        graph.Activation
		wStd       float64 // expected standard deviation of the weights
		zeroBiases bool
	}{
		{"", graph.ReLU, math.Sqrt(2.0 / 300), true},                          // He normal
		{"he-glorot", graph.Sigmoid, math.Sqrt(6.0/500) / math.Sqrt(3), true}, // Glorot uniform
		{"torch", graph.ReLU, 1 / math.Sqrt(300) / math.Sqrt(3), false},       // U(±1/√fan_in)
	} {
		t.Run(tc.scheme+"/"+string(tc.act), func(t *testing.T) {
			scheme, err := graph.ParseScheme(tc.scheme)
			require.NoError(t, err)
			ps := graph.NewParams()
			ps.Scheme = scheme
			d, err := graph.NewDense(ps, "d", 300, 200, tc.act, rand.New(rand.NewPCG(4, 5)))
			require.NoError(t, err)
			var sq float64
			for _, v := range d.W.Data() {
				sq += float64(v) * float64(v)
			}
			assert.InDelta(t, tc.wStd, math.Sqrt(sq/float64(d.W.Size())), 0.05*tc.wStd)
			nonZero := 0
			for _, v := range d.B.Data() {
				if v != 0 {
					nonZero++
				}
			}
			assert.Equal(t, tc.zeroBiases, nonZero == 0, "biases zero")
		})
	}
	_, err := graph.ParseScheme("lecun")
	assert.ErrorContains(t, err, "valid: he-glorot, torch")
}

func TestParseNames(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr bool
	}{{"relu", false}, {"sigmoid", false}, {"tanh", false}, {"identity", false}, {"gelu", true}, {"", true}} {
		_, err := graph.ParseActivation(tc.in)
		assert.Equal(t, tc.wantErr, err != nil, tc.in)
	}
	_, err := graph.ParseLoss("huber")
	assert.ErrorContains(t, err, "valid: mse, bce")
}

func TestDenseShapeError(t *testing.T) {
	ps := graph.NewParams()
	d, err := graph.NewDense(ps, "d", 4, 2, graph.ReLU, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	g := G.NewGraph()
	_, err = d.Forward(ps, fixedInput(g, "x", 2, 5, 1))
	assert.ErrorContains(t, err, "want (batch, 4)")
}
