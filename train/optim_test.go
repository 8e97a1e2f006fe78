package train

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/graph"
)

// minNormal is the smallest normal float32.
const minNormal = 1.17549435e-38

func param(name string, vals ...float32) *graph.Param {
	return &graph.Param{Name: name, Shape: []int{len(vals)}, Value: tensor.New(tensor.WithBacking(vals))}
}

// TestAdamMatchesPublishedRule replays Adam's update rule (Kingma & Ba,
// with PyTorch's bias correction) in float64 and compares three steps.
func TestAdamMatchesPublishedRule(t *testing.T) {
	p := param("w", 0.5, -1.5)
	grads := [][]float64{{0.1, -0.2}, {0.3, 0.0}, {-0.05, 0.4}}
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	want := []float64{0.5, -1.5}
	m, v := []float64{0, 0}, []float64{0, 0}
	opt := NewAdam()
	for step, g := range grads {
		g32 := []float32{float32(g[0]), float32(g[1])}
		require.NoError(t, opt.Step([]*graph.Param{p}, [][]float32{g32}, lr))
		tt := float64(step + 1)
		for j := range want {
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			mh := m[j] / (1 - math.Pow(b1, tt))
			vh := v[j] / (1 - math.Pow(b2, tt))
			want[j] -= lr * mh / (math.Sqrt(vh) + eps)
		}
		for j := range want {
			assert.InDelta(t, want[j], p.Data()[j], 1e-6, "step %d coord %d", step+1, j)
		}
	}
	assert.Equal(t, 3, opt.Steps())
}

func TestAdamFlushesSubnormals(t *testing.T) {
	p := param("w", 1, 2, 3)
	opt := NewAdam()
	require.NoError(t, opt.Step([]*graph.Param{p}, [][]float32{{1e-3, -1e-3, 5e-4}}, 1e-3))
	zero := [][]float32{{0, 0, 0}}
	// 0.9^n reaches the subnormal range after ~750 steps; run well past it.
	for i := 0; i < 3000; i++ {
		require.NoError(t, opt.Step([]*graph.Param{p}, zero, 1e-3))
	}
	for name, buf := range opt.State() {
		for i, x := range buf {
			ax := math.Abs(float64(x))
			assert.False(t, ax != 0 && ax < minNormal, "%s[%d] = %g is subnormal", name, i, x)
		}
	}
	for _, x := range p.Data() {
		assert.False(t, x != 0 && math.Abs(float64(x)) < minNormal)
	}
}

func TestAdamErrors(t *testing.T) {
	opt := NewAdam()
	p := param("w", 1, 2)
	assert.ErrorContains(t, opt.Step([]*graph.Param{p}, nil, 1e-3), "1 parameters but 0 gradients")
	assert.ErrorContains(t, opt.Step([]*graph.Param{p}, [][]float32{{1}}, 1e-3), "has 1 values, want 2")
	assert.ErrorContains(t, opt.Load(map[string][]float32{}, []*graph.Param{p}), "holds no adam state (saved before the first step")
	assert.ErrorIs(t, opt.Load(map[string][]float32{}, []*graph.Param{p}), ErrNoOptimState)
	assert.ErrorContains(t, opt.Load(map[string][]float32{"v/w": {0, 0}}, []*graph.Param{p}), "adam state m/w is missing")
}

// refOptim is a float64 transcription of each optimizer's published update
// rule (PyTorch's documentation pseudo-code), one coordinate at a time.
type refOptim struct {
	name                    string
	lr, wd, mu, b1, b2, eps float64
	alpha                   float64
	nesterov                bool
	t                       int
	m, v, buf               []float64
}

func (r *refOptim) step(w, g []float64) {
	if r.m == nil {
		r.m, r.v, r.buf = make([]float64, len(w)), make([]float64, len(w)), make([]float64, len(w))
	}
	r.t++
	for j := range w {
		gj := g[j]
		switch r.name {
		case "adam", "adamw":
			if r.name == "adamw" {
				w[j] -= r.lr * r.wd * w[j]
			} else {
				gj += r.wd * w[j]
			}
			r.m[j] = r.b1*r.m[j] + (1-r.b1)*gj
			r.v[j] = r.b2*r.v[j] + (1-r.b2)*gj*gj
			mh := r.m[j] / (1 - math.Pow(r.b1, float64(r.t)))
			vh := r.v[j] / (1 - math.Pow(r.b2, float64(r.t)))
			w[j] -= r.lr * mh / (math.Sqrt(vh) + r.eps)
		case "sgd":
			gj += r.wd * w[j]
			if r.mu != 0 {
				if r.t == 1 {
					r.buf[j] = gj
				} else {
					r.buf[j] = r.mu*r.buf[j] + gj
				}
				if r.nesterov {
					gj += r.mu * r.buf[j]
				} else {
					gj = r.buf[j]
				}
			}
			w[j] -= r.lr * gj
		case "rmsprop":
			gj += r.wd * w[j]
			r.v[j] = r.alpha*r.v[j] + (1-r.alpha)*gj*gj
			d := gj / (math.Sqrt(r.v[j]) + r.eps)
			if r.mu != 0 {
				r.buf[j] = r.mu*r.buf[j] + d
				d = r.buf[j]
			}
			w[j] -= r.lr * d
		}
	}
}

func TestOptimizersMatchPublishedRules(t *testing.T) {
	grads := [][]float64{{0.1, -0.2, 0}, {0.3, 0.05, -1}, {-0.05, 0.4, 2}, {0.2, 0.2, 0.2}}
	for _, tc := range []struct {
		cfg OptimConfig
		ref refOptim
	}{
		{OptimConfig{Name: "adam"}, refOptim{name: "adam", b1: 0.9, b2: 0.999, eps: 1e-8}},
		{OptimConfig{Name: "adam", WeightDecay: 0.1, Beta1: 0.8, Beta2: 0.99}, refOptim{name: "adam", wd: 0.1, b1: 0.8, b2: 0.99, eps: 1e-8}},
		{OptimConfig{Name: "adamw", WeightDecay: 0.01}, refOptim{name: "adamw", wd: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8}},
		{OptimConfig{Name: "sgd"}, refOptim{name: "sgd"}},
		{OptimConfig{Name: "sgd", Momentum: 0.9, WeightDecay: 0.05}, refOptim{name: "sgd", mu: 0.9, wd: 0.05}},
		{OptimConfig{Name: "sgd", Momentum: 0.9, Nesterov: true}, refOptim{name: "sgd", mu: 0.9, nesterov: true}},
		{OptimConfig{Name: "rmsprop"}, refOptim{name: "rmsprop", alpha: 0.99, eps: 1e-8}},
		{OptimConfig{Name: "rmsprop", Momentum: 0.5, WeightDecay: 0.1}, refOptim{name: "rmsprop", alpha: 0.99, eps: 1e-8, mu: 0.5, wd: 0.1}},
	} {
		t.Run(fmt.Sprintf("%+v", tc.cfg), func(t *testing.T) {
			opt, err := NewOptimizer(tc.cfg)
			require.NoError(t, err)
			p := param("w", 0.5, -1.5, 2)
			want := []float64{0.5, -1.5, 2}
			ref := tc.ref
			ref.lr = 0.01
			for step, g := range grads {
				g32 := []float32{float32(g[0]), float32(g[1]), float32(g[2])}
				require.NoError(t, opt.Step([]*graph.Param{p}, [][]float32{g32}, ref.lr))
				ref.step(want, g)
				for j := range want {
					assert.InDelta(t, want[j], p.Data()[j], 1e-6, "step %d coord %d", step+1, j)
				}
			}
			assert.Equal(t, len(grads), opt.Steps())
		})
	}
}

// TestSGDByHand checks momentum and Nesterov against numbers worked out on
// paper: w=1, g=0.5, lr=0.1, μ=0.9.
func TestSGDByHand(t *testing.T) {
	for _, tc := range []struct {
		nesterov bool
		want     []float32 // after steps 1 and 2
	}{
		{false, []float32{0.95, 0.855}},  // buf 0.5 then 0.95
		{true, []float32{0.905, 0.7695}}, // d = 0.5+0.9·0.5 = 0.95; then 0.5+0.9·0.95 = 1.355
	} {
		opt, err := NewOptimizer(OptimConfig{Name: "sgd", Momentum: 0.9, Nesterov: tc.nesterov})
		require.NoError(t, err)
		p := param("w", 1, 1) // a one-value tensor would be a scalar
		for i, w := range tc.want {
			require.NoError(t, opt.Step([]*graph.Param{p}, [][]float32{{0.5, 0.5}}, 0.1))
			assert.InDelta(t, w, p.Data()[0], 1e-6, "nesterov %v step %d", tc.nesterov, i+1)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	g := [][]float32{{3, 0}, {0, 4}} // norm 5
	assert.InDelta(t, 5, ClipGradNorm(g, 10), 1e-12)
	assert.Equal(t, [][]float32{{3, 0}, {0, 4}}, g, "under the limit: untouched")
	assert.InDelta(t, 5, ClipGradNorm(g, 1), 1e-12)
	assert.InDelta(t, 0.6, g[0][0], 1e-6)
	assert.InDelta(t, 0.8, g[1][1], 1e-6)
	assert.InDelta(t, 1, ClipGradNorm(g, 0), 1e-6, "0 only measures")
}

func TestOptimizerStateRoundTrip(t *testing.T) {
	for _, cfg := range []OptimConfig{{Name: "adam"}, {Name: "adamw", WeightDecay: 0.01}, {Name: "sgd", Momentum: 0.9}, {Name: "rmsprop", Momentum: 0.3}} {
		a, err := NewOptimizer(cfg)
		require.NoError(t, err)
		b, err := NewOptimizer(cfg)
		require.NoError(t, err)
		pa, pb := param("w", 1, 2), param("w", 1, 2)
		g := [][]float32{{0.3, -0.7}}
		require.NoError(t, a.Step([]*graph.Param{pa}, g, 0.1))
		require.NoError(t, a.Step([]*graph.Param{pa}, g, 0.1))
		// b continues from a's exported state and pa's weights.
		copy(pb.Data(), pa.Data())
		require.NoError(t, b.Load(a.State(), []*graph.Param{pb}))
		b.SetSteps(a.Steps())
		require.NoError(t, a.Step([]*graph.Param{pa}, g, 0.1))
		require.NoError(t, b.Step([]*graph.Param{pb}, g, 0.1))
		assert.Equal(t, pa.Data(), pb.Data(), cfg.Name)
	}
}

func TestOptimConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  OptimConfig
		want string
	}{
		{OptimConfig{Name: "adagrad"}, `unknown optimizer "adagrad" (valid: adam, adamw, sgd, rmsprop)`},
		{OptimConfig{Name: "adam", Nesterov: true}, "nesterov needs the sgd optimizer"},
		{OptimConfig{Name: "sgd", Nesterov: true}, "momentum above 0"},
		{OptimConfig{Name: "adam", Momentum: 0.9}, "momentum 0.9 applies to sgd and rmsprop"},
		{OptimConfig{Name: "sgd", Momentum: 1.5}, "momentum 1.5 must be in [0,1)"},
		{OptimConfig{Name: "sgd", WeightDecay: -1}, "weight decay -1"},
		{OptimConfig{Name: "adam", Beta1: 1}, "beta1 1"},
	} {
		_, err := NewOptimizer(tc.cfg)
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestFirstNonFinite(t *testing.T) {
	for _, tc := range []struct {
		vals []float32
		want string
	}{
		{[]float32{1, -2, 3e38}, ""},
		{[]float32{1, float32(math.Inf(1))}, "w"},
		{[]float32{float32(math.NaN())}, "w"},
		{[]float32{float32(math.Inf(-1)), 0}, "w"},
	} {
		assert.Equal(t, tc.want, firstNonFinite([]*graph.Param{param("ok", 0, 0), param("w", append(tc.vals, 0)...)}), "%v", tc.vals)
	}
}
