package models_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/checkpoint"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/internal/gradcheck"
	"github.com/hourglass-ml/hourglass/models"
)

// tinySpec is a small instance of kind on C×H×W inputs, fast enough to check
// gradients coordinate by coordinate.
func tinySpec(t *testing.T, kind string, shape ...int) models.Spec {
	t.Helper()
	if shape == nil {
		shape = []int{1, 4, 4}
	}
	spec, err := models.DefaultSpec(kind, shape, 3)
	require.NoError(t, err)
	switch {
	case len(spec.Channels) > 0:
		spec.Channels = []int{2, 3}
	case kind == "vae":
		spec.Hidden = []int{6}
	case len(spec.Hidden) > 0:
		spec.Hidden = []int{8, 5}
	}
	spec.InitSeed = 11
	return spec
}

func newModel(t *testing.T, spec models.Spec) models.Model {
	t.Helper()
	m, err := models.New(spec)
	require.NoError(t, err)
	return m
}

func tiny(t *testing.T, kind string) models.Model { return newModel(t, tinySpec(t, kind)) }

func batchOf(n, dim int) []float32 {
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = float32((i*37)%101) / 100
	}
	return x
}

// variants are every kind plus the settings that change a kind's graph.
func variants(t *testing.T) map[string]models.Spec {
	v := map[string]models.Spec{}
	for _, kind := range models.Kinds() {
		v[kind] = tinySpec(t, kind)
	}
	s := tinySpec(t, "sparse")
	s.Sparsity = &models.SparsitySpec{Rho: 0.1, Beta: 2, L1: 0.01}
	v["sparse-kl"] = s
	s = tinySpec(t, "sparse")
	s.Sparsity = &models.SparsitySpec{} // the unpenalised baseline
	v["sparse-none"] = s
	for _, kind := range []string{"vae", "convvae"} {
		s = tinySpec(t, kind)
		s.Loss, s.Beta = "mse", 0.5
		v[kind+"-mse"] = s
	}
	s = tinySpec(t, "conv", 2, 5, 3)
	v["conv-5x3"] = s
	return v
}

func TestObjectiveGradients(t *testing.T) {
	for name, spec := range variants(t) {
		t.Run(name, func(t *testing.T) {
			m := newModel(t, spec)
			dim := spec.InputDim()
			res, err := gradcheck.Check(m.Params(), func(g *G.ExprGraph) (*G.Node, func(), error) {
				obj, err := m.Objective(g, 4)
				if err != nil {
					return nil, nil, err
				}
				x := batchOf(4, dim)
				// The same noise at every evaluation: the loss is a fixed function.
				return obj.Loss, func() { obj.Feed(x, rand.New(rand.NewPCG(1, 2))) }, nil
			}, 12, 1e-2, 5)
			require.NoError(t, err)
			assert.Less(t, res.RelErr, 0.03, "analytic %v\nnumeric  %v", res.Analytic, res.Numeric)
		})
	}
}

// adam is a minimal optimizer so that these tests need nothing of train/.
type adam struct{ m, v [][]float32 }

func (a *adam) step(params []*graph.Param, grads [][]float32, lr float64, t int) {
	if a.m == nil {
		for _, p := range params {
			a.m = append(a.m, make([]float32, p.Size()))
			a.v = append(a.v, make([]float32, p.Size()))
		}
	}
	c1, c2 := 1-math.Pow(0.9, float64(t)), 1-math.Pow(0.999, float64(t))
	for i, p := range params {
		w := p.Data()
		for j, g := range grads[i] {
			a.m[i][j] = 0.9*a.m[i][j] + 0.1*g
			a.v[i][j] = 0.999*a.v[i][j] + 0.001*g*g
			w[j] -= float32(lr * float64(a.m[i][j]) / c1 / (math.Sqrt(float64(a.v[i][j])/c2) + 1e-8))
		}
	}
}

// fit runs steps Adam steps on x (batch rows) with fresh noise per step.
func fit(t *testing.T, m models.Model, x []float32, batch, steps int) {
	t.Helper()
	g := G.NewGraph()
	defer m.Params().Forget(g)
	obj, err := m.Objective(g, batch)
	require.NoError(t, err)
	nodes, params := m.Params().Nodes(g)
	_, err = G.Grad(obj.Loss, nodes...)
	require.NoError(t, err)
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	defer vm.Close()
	opt := &adam{}
	for s := 1; s <= steps; s++ {
		obj.Feed(x, rand.New(rand.NewPCG(7, uint64(s))))
		require.NoError(t, vm.RunAll())
		grads := make([][]float32, len(nodes))
		for i, n := range nodes {
			gv, err := n.Grad()
			require.NoError(t, err)
			grads[i] = append([]float32(nil), gv.Data().([]float32)...)
			clear(gv.Data().([]float32))
		}
		opt.step(params, grads, 2e-3, s)
		vm.Reset()
	}
}

// lossOn evaluates the objective on x with noise from a fixed seed; it
// reads every part as train.Evaluate does.
func lossOn(t *testing.T, m models.Model, x []float32, batch int) float64 {
	t.Helper()
	g := G.NewGraph()
	defer m.Params().Forget(g)
	obj, err := m.Objective(g, batch)
	require.NoError(t, err)
	var v G.Value
	G.Read(obj.Loss, &v)
	parts := make([]G.Value, len(obj.Parts))
	for i, p := range obj.Parts {
		require.NotNil(t, p.Node.Graph(), "part %s must be a node of the graph", p.Name)
		G.Read(p.Node, &parts[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	obj.Feed(x, rand.New(rand.NewPCG(99, 1)))
	require.NoError(t, vm.RunAll())
	return float64(v.Data().(float32))
}

func TestLossFallsOnSample(t *testing.T) {
	splits, err := dataset.Load("sample")
	require.NoError(t, err)
	d := splits.Train
	const batch = 32
	x := d.X[:batch*d.Dim()]
	for _, kind := range models.Kinds() {
		t.Run(kind, func(t *testing.T) {
			spec, err := models.DefaultSpec(kind, []int{d.C, d.H, d.W}, 0)
			require.NoError(t, err)
			if len(spec.Channels) > 0 {
				spec.Channels = []int{8, 16} // the default 32, 64 takes seconds a step
			}
			spec.InitSeed = 3
			m := newModel(t, spec)
			before := lossOn(t, m, x, batch)
			fit(t, m, x, batch, 8)
			after := lossOn(t, m, x, batch)
			assert.Less(t, after, 0.9*before, "loss %g → %g after 8 steps", before, after)
		})
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for name, spec := range variants(t) {
		t.Run(name, func(t *testing.T) {
			m := newModel(t, spec)
			dim := spec.InputDim()
			x := batchOf(6, dim)
			fit(t, m, x[:3*dim], 3, 3) // weights that differ from a fresh init
			f := &checkpoint.File{Metadata: map[string]string{"spec": m.Spec().JSON()}}
			for _, p := range m.Params().List() {
				f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data()})
			}
			path := filepath.Join(dir, name+".safetensors")
			require.NoError(t, checkpoint.Save(path, f))

			back, err := checkpoint.Load(path)
			require.NoError(t, err)
			spec2, err := models.ParseSpec(back.Metadata["spec"])
			require.NoError(t, err)
			assert.Equal(t, spec, spec2)
			m2 := newModel(t, spec2)
			for _, p := range m2.Params().List() {
				ten, ok := back.Get(p.Name)
				require.True(t, ok, p.Name)
				copy(p.Data(), ten.Data)
			}
			want, err := models.Reconstruct(m, x, 6)
			require.NoError(t, err)
			got, err := models.Reconstruct(m2, x, 6)
			require.NoError(t, err)
			assert.Equal(t, want, got, "reconstructions must match bit for bit")
			assert.InDelta(t, lossOn(t, m, x, 6), lossOn(t, m2, x, 6), 0)
		})
	}
}

func TestSpecRoundTrip(t *testing.T) {
	for _, kind := range models.Kinds() {
		spec, err := models.DefaultSpec(kind, []int{1, 28, 28}, 0)
		require.NoError(t, err)
		back, err := models.ParseSpec(spec.JSON())
		require.NoError(t, err)
		assert.Equal(t, spec, back)
	}
}

func TestSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"unknown kind", `{"kind":"gan","input_shape":[1,28,28],"latent":2}`, `unknown model kind "gan"`},
		{"bad shape", `{"kind":"deep","input_shape":[28,28],"latent":2}`, "must be C,H,W"},
		{"no latent", `{"kind":"deep","input_shape":[1,28,28],"latent":0}`, "latent size 0"},
		{"unknown field", `{"kind":"deep","input_shape":[1,28,28],"latent":2,"colour":1}`, "unknown field"},
		{"not json", `{`, "model spec"},
		{"denoising without noise", `{"kind":"denoising","input_shape":[1,28,28],"latent":2}`, "needs noise settings"},
		{"unknown noise", `{"kind":"denoising","input_shape":[1,28,28],"latent":2,"noise":{"kind":"pink"}}`, `unknown noise "pink"`},
		{"gaussian std", `{"kind":"denoising","input_shape":[1,28,28],"latent":2,"noise":{"kind":"gaussian"}}`, "standard deviation 0"},
		{"mask frac", `{"kind":"denoising","input_shape":[1,28,28],"latent":2,"noise":{"kind":"mask","frac":1.5}}`, "fraction 1.5"},
		{"noise on deep", `{"kind":"deep","input_shape":[1,28,28],"latent":2,"noise":{"kind":"mask","frac":0.5}}`, "apply only to denoising"},
		{"sparse without", `{"kind":"sparse","input_shape":[1,28,28],"latent":2}`, "needs sparsity settings"},
		{"sparse rho", `{"kind":"sparse","input_shape":[1,28,28],"latent":2,"sparsity":{"rho":1}}`, "rho 1"},
		{"sparse beta no rho", `{"kind":"sparse","input_shape":[1,28,28],"latent":2,"sparsity":{"beta":1}}`, "needs a target activation"},
		{"negative l1", `{"kind":"sparse","input_shape":[1,28,28],"latent":2,"sparsity":{"l1":-1}}`, "l1 weight -1"},
		{"beta on conv", `{"kind":"conv","input_shape":[1,28,28],"latent":2,"channels":[4],"beta":1}`, "applies only to vae"},
		{"negative beta", `{"kind":"vae","input_shape":[1,28,28],"latent":2,"hidden":[4],"beta":-1}`, "beta -1"},
		{"conv without channels", `{"kind":"conv","input_shape":[1,28,28],"latent":2}`, "convolution channel"},
		{"channels on deep", `{"kind":"deep","input_shape":[1,28,28],"latent":2,"channels":[4]}`, "apply only to conv"},
		{"unknown init", `{"kind":"deep","input_shape":[1,28,28],"latent":2,"init":"lecun"}`, `unknown initialisation "lecun"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := models.ParseSpec(tc.json)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := models.DefaultSpec("nosuch", []int{1, 28, 28}, 0)
	assert.ErrorContains(t, err, "valid: basic, deep, denoising, sparse, conv, vae, convvae")
	_, err = models.New(models.Spec{Kind: "vae", InputShape: []int{1, 4, 4}, Latent: 2, Activation: "relu", Output: "sigmoid", Loss: "bce", Beta: 1})
	assert.ErrorContains(t, err, "at least one hidden layer")
}

func TestArchitectures(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		shapes [][]int
	}{
		{"basic", [][]int{{784, 64}, {64}, {64, 784}, {784}}},
		{"deep", [][]int{{784, 512}, {512}, {512, 256}, {256}, {256, 32}, {32}, {32, 256}, {256}, {256, 512}, {512}, {512, 784}, {784}}},
		{"sparse", [][]int{{784, 128}, {128}, {128, 64}, {64}, {64, 32}, {32}, {32, 64}, {64}, {64, 128}, {128}, {128, 784}, {784}}},
		// Conv(1→32, 3, /2) → Conv(32→64, 3, /2) → Dense(3136→32);
		// Dense(32→3136) → Conv(64→32, 3) → Conv(32→1, 3).
		{"conv", [][]int{{32, 1, 3, 3}, {32}, {64, 32, 3, 3}, {64}, {3136, 32}, {32}, {32, 3136}, {3136}, {32, 64, 3, 3}, {32}, {1, 32, 3, 3}, {1}}},
		// pytorch/examples: 784-400-(20, 20), 20-400-784.
		{"vae", [][]int{{784, 400}, {400}, {20, 400}, {400}, {400, 784}, {784}, {400, 20}, {20}, {400, 20}, {20}}},
		{"convvae", [][]int{{32, 1, 3, 3}, {32}, {64, 32, 3, 3}, {64}, {20, 3136}, {3136}, {32, 64, 3, 3}, {32}, {1, 32, 3, 3}, {1}, {3136, 20}, {20}, {3136, 20}, {20}}},
	} {
		spec, err := models.DefaultSpec(tc.kind, []int{1, 28, 28}, 0)
		require.NoError(t, err)
		m := newModel(t, spec)
		var got [][]int
		for _, p := range m.Params().List() {
			got = append(got, p.Shape)
		}
		assert.Equal(t, tc.shapes, got, tc.kind)
	}
}

func TestInferenceShapes(t *testing.T) {
	m := tiny(t, "deep")
	n := 300 // more than one inference batch, with a short last batch
	x := batchOf(n, 16)
	z, err := models.Encode(m, x, n)
	require.NoError(t, err)
	assert.Len(t, z, n*3)
	y, err := models.Decode(m, z, n)
	require.NoError(t, err)
	r, err := models.Reconstruct(m, x, n)
	require.NoError(t, err)
	assert.Equal(t, y, r, "Reconstruct must equal Decode(Encode(x))")
	r7, err := models.ReconstructBatch(m, x, n, 7)
	require.NoError(t, err)
	assert.InDeltaSlice(t, r, r7, 1e-6, "the batch size must not change outputs")
	buf := make([]float32, len(r))
	require.NoError(t, models.ReconstructInto(m, buf, x, n, 64))
	assert.InDeltaSlice(t, r, buf, 1e-6)
	assert.ErrorContains(t, models.ReconstructInto(m, buf[1:], x, n, 64), "output buffer")
	_, err = models.ReconstructBatch(m, x, n, 0)
	assert.ErrorContains(t, err, "batch size 0")
	for _, v := range r {
		require.True(t, v > 0 && v < 1, "sigmoid output %v", v)
	}
	// A sample's output must not depend on which batch it was in.
	r1, err := models.Reconstruct(m, x[299*16:], 1)
	require.NoError(t, err)
	assert.InDeltaSlice(t, r[299*16:], r1, 1e-6)

	_, err = models.Encode(m, x[:10], 1)
	assert.ErrorContains(t, err, "want 1 samples")
}

func TestConvShapes(t *testing.T) {
	for _, shape := range [][]int{{3, 32, 32}, {1, 30, 30}, {2, 13, 7}, {1, 1, 1}} {
		for _, kind := range []string{"conv", "convvae"} {
			spec := tinySpec(t, kind, shape...)
			m := newModel(t, spec)
			dim := spec.InputDim()
			x := batchOf(3, dim)
			r, err := models.Reconstruct(m, x, 3)
			require.NoError(t, err, "%s %v", kind, shape)
			assert.Len(t, r, 3*dim, "%s %v", kind, shape)
			// A wrong width is named against the image shape.
			g := G.NewGraph()
			_, err = m.Encode(G.NewMatrix(g, G.Float32, G.WithShape(2, dim+1)))
			assert.ErrorContains(t, err, "want (batch, ")
			_, err = m.Decode(G.NewMatrix(g, G.Float32, G.WithShape(2, spec.Latent+1)))
			assert.ErrorContains(t, err, "code shape")
		}
	}
	// 3×32×32 at the default channels: 32 → 16 → 8.
	spec, err := models.DefaultSpec("conv", []int{3, 32, 32}, 0)
	require.NoError(t, err)
	m := newModel(t, spec)
	p, ok := m.Params().Get("encoder.code.w")
	require.True(t, ok)
	assert.Equal(t, []int{64 * 8 * 8, 32}, p.Shape)
	p, ok = m.Params().Get("decoder.conv1.w")
	require.True(t, ok)
	assert.Equal(t, []int{3, 32, 3, 3}, p.Shape)
}

func TestCorrupt(t *testing.T) {
	const n = 20000
	clean := make([]float32, n)
	for i := range clean {
		clean[i] = 0.5
	}
	for _, tc := range []struct {
		noise models.NoiseSpec
		check func(t *testing.T, x []float32)
	}{
		{models.NoiseSpec{Kind: "gaussian", Std: 0.3}, func(t *testing.T, x []float32) {
			var s, ss float64
			for _, v := range x {
				require.True(t, v >= 0 && v <= 1, "clipped to [0, 1]: %v", v)
				s += float64(v) - 0.5
				ss += (float64(v) - 0.5) * (float64(v) - 0.5)
			}
			assert.InDelta(t, 0, s/n, 0.01)
			assert.InDelta(t, 0.275, math.Sqrt(ss/n), 0.01, "std 0.3, lowered by clipping at ±1.67σ")
		}},
		{models.NoiseSpec{Kind: "mask", Frac: 0.25}, func(t *testing.T, x []float32) {
			zeros := 0
			for _, v := range x {
				require.True(t, v == 0 || v == 0.5)
				if v == 0 {
					zeros++
				}
			}
			assert.InDelta(t, 0.25, float64(zeros)/n, 0.02)
		}},
		{models.NoiseSpec{Kind: "saltpepper", Frac: 0.2}, func(t *testing.T, x []float32) {
			var salt, pepper int
			for _, v := range x {
				switch v {
				case 0:
					pepper++
				case 1:
					salt++
				default:
					require.Equal(t, float32(0.5), v)
				}
			}
			assert.InDelta(t, 0.1, float64(salt)/n, 0.015)
			assert.InDelta(t, 0.1, float64(pepper)/n, 0.015)
		}},
	} {
		t.Run(tc.noise.Kind, func(t *testing.T) {
			a := append([]float32(nil), clean...)
			require.NoError(t, models.Corrupt(tc.noise, a, rand.New(rand.NewPCG(1, 2))))
			tc.check(t, a)
			b := append([]float32(nil), clean...)
			require.NoError(t, models.Corrupt(tc.noise, b, rand.New(rand.NewPCG(1, 2))))
			assert.Equal(t, a, b, "the same seed gives the same corruption")
		})
	}
	assert.ErrorContains(t, models.Corrupt(models.NoiseSpec{Kind: "pink"}, clean, rand.New(rand.NewPCG(1, 2))), "valid: gaussian, mask, saltpepper")
}

func TestDenoisingFigures(t *testing.T) {
	m := tiny(t, "denoising")
	x := batchOf(10, 16)
	f, ok := m.(models.Figurer)
	require.True(t, ok)
	a, err := f.Figures(x, 10, 5)
	require.NoError(t, err)
	b, err := f.Figures(x, 10, 5)
	require.NoError(t, err)
	assert.Equal(t, a, b, "seeded evaluation noise")
	// The noisy images' PSNR, from the same seeded corruption by hand.
	noisy := append([]float32(nil), x...)
	require.NoError(t, models.Corrupt(*m.Spec().Noise, noisy, rand.New(rand.NewPCG(5, 0xc0446))))
	var psnr, mse float64
	for i := range 10 {
		var e float64
		for j := range 16 {
			d := float64(x[i*16+j] - noisy[i*16+j])
			e += d * d
		}
		mse += e / 160
		psnr += 10 * math.Log10(16/e) / 10
	}
	assert.InDelta(t, psnr, a["psnr_noisy"], 1e-6)
	assert.InDelta(t, mse, a["mse_noisy"], 1e-7)
	assert.Contains(t, a, "psnr_denoised")
	assert.Contains(t, a, "mse_denoised")
}

func TestSparseFigures(t *testing.T) {
	m := tiny(t, "sparse")
	x := batchOf(10, 16)
	figs, err := m.(models.Figurer).Figures(x, 10, 0)
	require.NoError(t, err)
	z, err := models.Encode(m, x, 10)
	require.NoError(t, err)
	var s float64
	for _, v := range z {
		require.GreaterOrEqual(t, v, float32(0), "ReLU code")
		s += float64(v)
	}
	assert.InDelta(t, s/float64(len(z)), figs["code_mean_activation"], 1e-9)
}

// TestVAELoss checks the objective against the negative ELBO computed by
// hand from the posterior and the decoder, with ε = 0 so z = μ.
func TestVAELoss(t *testing.T) {
	for _, kind := range []string{"vae", "convvae"} {
		m := tiny(t, kind)
		x := batchOf(4, 16)
		mu, logvar, err := models.Posterior(m, x, 4)
		require.NoError(t, err)
		xHat, err := models.Decode(m, mu, 4)
		require.NoError(t, err)
		var recon, kl float64
		for i, p := range xHat {
			p, t := float64(p), float64(x[i])
			recon -= t*math.Log(p+1e-7) + (1-t)*math.Log(1-p+1e-7)
		}
		for i := range mu {
			m, lv := float64(mu[i]), float64(logvar[i])
			kl += 0.5 * (m*m + math.Exp(lv) - 1 - lv)
		}
		recon, kl = recon/4, kl/4

		g := G.NewGraph()
		obj, err := m.Objective(g, 4)
		require.NoError(t, err)
		vals := make([]G.Value, 3)
		G.Read(obj.Loss, &vals[0])
		require.Len(t, obj.Parts, 2)
		for i, p := range obj.Parts {
			G.Read(p.Node, &vals[i+1])
		}
		vm := G.NewTapeMachine(g)
		obj.Feed(x, nil)
		require.NoError(t, vm.RunAll())
		vm.Close()
		assert.Equal(t, []string{"recon", "kl"}, []string{obj.Parts[0].Name, obj.Parts[1].Name})
		assert.InDelta(t, recon+kl, vals[0].Data().(float32), 1e-3, kind)
		assert.InDelta(t, recon, vals[1].Data().(float32), 1e-3, kind)
		assert.InDelta(t, kl, vals[2].Data().(float32), 1e-4, kind)
	}
}

func TestGenerator(t *testing.T) {
	for _, kind := range []string{"vae", "convvae"} {
		m := tiny(t, kind)
		gen, ok := m.(models.Generator)
		require.True(t, ok, kind)
		s, err := gen.Sample(5, rand.New(rand.NewPCG(1, 1)))
		require.NoError(t, err)
		assert.Len(t, s, 5*16)
		x := batchOf(2, 16)
		path, err := gen.Interpolate(x[:16], x[16:], 4)
		require.NoError(t, err)
		require.Len(t, path, 4*16)
		r, err := models.Reconstruct(m, x, 2)
		require.NoError(t, err)
		assert.InDeltaSlice(t, r[:16], path[:16], 1e-6, "first step decodes a's mean")
		assert.InDeltaSlice(t, r[16:], path[3*16:], 1e-6, "last step decodes b's mean")
		_, err = gen.Interpolate(x[:15], x[16:], 4)
		assert.ErrorContains(t, err, "want one")
	}
	_, ok := tiny(t, "deep").(models.Generator)
	assert.False(t, ok)
	_, _, err := models.Posterior(tiny(t, "deep"), batchOf(1, 16), 1)
	assert.ErrorContains(t, err, "no posterior")
}

// TestFeedInPlace: a batch written straight into Objective.Input and fed
// from there gives the loss the same batch gives through Feed's copy, for
// every kind (the noise of denoising and the VAE's ε drawn alike).
func TestFeedInPlace(t *testing.T) {
	for name, spec := range variants(t) {
		t.Run(name, func(t *testing.T) {
			m := newModel(t, spec)
			const batch = 4
			x := batchOf(batch, spec.InputDim())
			run := func(inPlace bool) float32 {
				g := G.NewGraph()
				defer m.Params().Forget(g)
				obj, err := m.Objective(g, batch)
				require.NoError(t, err)
				require.Len(t, obj.Input, len(x))
				var v G.Value
				G.Read(obj.Loss, &v)
				vm := G.NewTapeMachine(g)
				defer vm.Close()
				src := x
				if inPlace {
					copy(obj.Input, x)
					src = obj.Input
				}
				obj.Feed(src, rand.New(rand.NewPCG(3, 4)))
				require.NoError(t, vm.RunAll())
				assert.Equal(t, x, obj.Input[:len(x)], "the clean batch is what the graph reads")
				return v.Data().(float32)
			}
			copied, inPlace := run(false), run(true)
			assert.Positive(t, copied)
			assert.Equal(t, copied, inPlace)
		})
	}
}

// TestInitFromMean: the dense VAE's output bias becomes the logit of the
// mean (clamped at 1e-3 and 1−1e-3), so decoding any code through a decoder
// whose last weights are zero gives the mean back; a bad mean is refused
// without touching the bias; the convvae keeps its initialisation.
func TestInitFromMean(t *testing.T) {
	m := tiny(t, "vae")
	mi, ok := m.(models.MeanInitializer)
	require.True(t, ok)
	mean := []float32{0, 1, 0.5, 0.25, 0.75, 0.1, 0.9, 0.0005, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}
	require.NoError(t, mi.InitFromMean(mean))
	bias, ok := m.Params().Get("decoder.1.b")
	require.True(t, ok)
	assert.InDelta(t, math.Log(1e-3/(1-1e-3)), bias.Data()[0], 1e-4, "an always-black pixel is clamped")
	assert.InDelta(t, -bias.Data()[0], bias.Data()[1], 1e-4)
	assert.InDelta(t, 0, bias.Data()[2], 1e-6)
	assert.InDelta(t, math.Log(1.0/3), bias.Data()[3], 1e-5)
	w, ok := m.Params().Get("decoder.1.w")
	require.True(t, ok)
	clear(w.Data())
	out, err := models.Decode(m, make([]float32, 2*m.Spec().Latent), 2)
	require.NoError(t, err)
	for j, v := range mean[2:] {
		assert.InDelta(t, max(v, 1e-3), out[j+2], 1e-5, "value %d", j+2)
	}

	before := append([]float32(nil), bias.Data()...)
	bad := append([]float32(nil), mean...)
	bad[5] = float32(math.NaN())
	assert.ErrorContains(t, mi.InitFromMean(bad), "NaN")
	assert.ErrorContains(t, mi.InitFromMean(mean[:3]), "mean of 3 values, want 16")
	assert.Equal(t, before, bias.Data(), "a refused mean leaves the bias as it was")

	conv := tiny(t, "convvae")
	was := map[string][]float32{}
	for _, p := range conv.Params().List() {
		was[p.Name] = append([]float32(nil), p.Data()...)
	}
	require.NoError(t, conv.(models.MeanInitializer).InitFromMean(mean))
	for _, p := range conv.Params().List() {
		assert.Equal(t, was[p.Name], p.Data(), p.Name)
	}
}
