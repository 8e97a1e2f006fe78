package graph

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/graph/ops"
)

// latentTerms builds β·KL + Σ w ⊙ z over mu, logvar and eps, fused or from
// Gorgonia's element-wise ops, and returns the loss, KL, z and the gradients
// with respect to mu and logvar after one run. The weights w give every
// element of z its own incoming gradient.
func latentTerms(t *testing.T, fused bool, mu, lv, eps, w []float32, b, k int) (loss, kl float32, z, dmu, dlv []float32) {
	t.Helper()
	g := gorgonia.NewGraph()
	val := func(v []float32) *tensor.Dense {
		return tensor.New(tensor.WithShape(b, k), tensor.WithBacking(append([]float32(nil), v...)))
	}
	muN := gorgonia.NodeFromAny(g, val(mu), gorgonia.WithName("mu"))
	lvN := gorgonia.NodeFromAny(g, val(lv), gorgonia.WithName("logvar"))
	epsN := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(b, k), gorgonia.WithName("eps"), gorgonia.WithValue(val(eps)))
	wN := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(b, k), gorgonia.WithName("w"), gorgonia.WithValue(val(w)))
	var zN, klN *gorgonia.Node
	var err error
	if fused {
		zN, err = ops.Reparameterize(muN, lvN, epsN)
		require.NoError(t, err)
		klN, err = ops.GaussianKL(muN, lvN)
	} else {
		zN, err = plainReparameterize(muN, lvN, epsN)
		require.NoError(t, err)
		klN, err = plainGaussianKL(muN, lvN)
	}
	require.NoError(t, err)
	wz, err := gorgonia.HadamardProd(zN, wN)
	require.NoError(t, err)
	s, err := gorgonia.Sum(wz)
	require.NoError(t, err)
	klB, err := gorgonia.HadamardProd(klN, Scalar(klN, 0.7))
	require.NoError(t, err)
	l, err := gorgonia.Add(s, klB)
	require.NoError(t, err)
	grads, err := gorgonia.Grad(l, muN, lvN)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	require.NoError(t, m.RunAll())
	f := func(n *gorgonia.Node) []float32 { return append([]float32(nil), n.Value().Data().([]float32)...) }
	scalar := func(n *gorgonia.Node) float32 { return n.Value().Data().(float32) }
	return scalar(l), scalar(klN), f(zN), f(grads[0]), f(grads[1])
}

// TestFusedLatentTermsMatchPlainGorgonia: the fused reparameterization and
// KL give the values and gradients of the element-wise graphs, including at
// a wide log-variance (−12 … 6) where exp matters.
func TestFusedLatentTermsMatchPlainGorgonia(t *testing.T) {
	const b, k = 128, 20
	r := rand.New(rand.NewSource(5))
	mu, lv, eps, w := make([]float32, b*k), make([]float32, b*k), make([]float32, b*k), make([]float32, b*k)
	for i := range mu {
		mu[i] = float32(r.NormFloat64() * 2)
		lv[i] = float32(-12 + 18*r.Float64())
		eps[i] = float32(r.NormFloat64())
		w[i] = float32(r.NormFloat64())
	}
	lf, klf, zf, dmuf, dlvf := latentTerms(t, true, mu, lv, eps, w, b, k)
	lp, klp, zp, dmup, dlvp := latentTerms(t, false, mu, lv, eps, w, b, k)
	assert.InEpsilon(t, klp, klf, 1e-5)
	assert.InEpsilon(t, lp, lf, 1e-4)
	// The KL computed here in float64, a third opinion on its definition.
	var want float64
	for i := range mu {
		l := float64(lv[i])
		want += -0.5 * (1 + l - float64(mu[i])*float64(mu[i]) - math.Exp(l))
	}
	assert.InEpsilon(t, want/b, klf, 1e-5)
	for name, pair := range map[string][2][]float32{"z": {zp, zf}, "dmu": {dmup, dmuf}, "dlogvar": {dlvp, dlvf}} {
		require.Len(t, pair[1], b*k, name)
		for i := range pair[0] {
			require.InDelta(t, pair[0][i], pair[1][i], 1e-4*(1+math.Abs(float64(pair[0][i]))), "%s[%d] (mu %g, logvar %g, eps %g)", name, i, mu[i], lv[i], eps[i])
		}
	}
	// dmu is w plus the KL's 0.7·mu/b.
	assert.InDelta(t, w[0]+0.7*mu[0]/b, dmuf[0], 1e-5)
}

func TestFusedLatentTermsRejectBadShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	m := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(4, 3), gorgonia.WithName("mu"))
	l := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(4, 2), gorgonia.WithName("lv"))
	e := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(4, 3), gorgonia.WithName("eps"))
	d := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 3), gorgonia.WithName("f64"))
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"reparam shapes": {err: second(ops.Reparameterize(m, l, e)), want: "must both be batch×latent"},
		"reparam eps":    {err: second(ops.Reparameterize(m, m, l)), want: "eps (4, 2)"},
		"kl shapes":      {err: second(ops.GaussianKL(m, l)), want: "must both be batch×latent"},
		"kl dtype":       {err: second(ops.GaussianKL(m, d)), want: "must be float32"},
	} {
		assert.ErrorContains(t, c.err, c.want, name)
	}
}

func second(_ *gorgonia.Node, err error) error { return err }
