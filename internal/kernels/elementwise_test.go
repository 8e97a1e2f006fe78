package kernels

import (
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = scale * (2*r.Float32() - 1)
	}
	return s
}

// Lengths 1..40 cover pure tails, exact multiples of 8 and vector+tail mixes.
func TestElementwiseKernelsMatchFloat64(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for n := 1; n <= 40; n++ {
		y, b := randSlice(r, n, 30), randSlice(r, n, 100) // wide range hits the ±80 clamp
		relu, sig := append([]float32(nil), y...), append([]float32(nil), y...)
		BiasReLU(relu, b)
		BiasSigmoid(sig, b)
		for i := range y {
			z := float64(y[i]) + float64(b[i])
			assert.InDelta(t, math.Max(z, 0), float64(relu[i]), 1e-5, "relu n=%d i=%d", n, i)
			zc := math.Min(math.Max(z, -80), 80)
			assert.InDelta(t, 1/(1+math.Exp(-zc)), float64(sig[i]), 1e-6, "sigmoid n=%d i=%d z=%g", n, i, z)
		}
		yr, ys, gy := randSlice(r, n, 1), randSlice(r, n, 1), randSlice(r, n, 1)
		for i := range yr {
			yr[i] = max(yr[i], 0)
			ys[i] = 0.5 + ys[i]/2
		}
		dr, ds := make([]float32, n), make([]float32, n)
		ReLUGrad(yr, gy, dr)
		SigmoidGrad(ys, gy, ds)
		for i := range yr {
			want := float32(0)
			if yr[i] > 0 {
				want = gy[i]
			}
			assert.Equal(t, want, dr[i], "relu grad n=%d i=%d", n, i)
			assert.InDelta(t, float64(gy[i])*float64(ys[i])*(1-float64(ys[i])), float64(ds[i]), 1e-6, "sigmoid grad n=%d i=%d", n, i)
		}
		dst := randSlice(r, n, 1)
		src := randSlice(r, n, 1)
		want := make([]float32, n)
		for i := range want {
			want[i] = dst[i] + src[i]
		}
		AddTo(dst, src)
		assert.Equal(t, want, dst, "addTo n=%d", n)
		var sq float64
		for i := range src {
			d := float64(dst[i]) - float64(src[i])
			sq += d * d
		}
		assert.InEpsilon(t, sq, SqDiffSum(dst, src), 1e-6, "sqDiffSum n=%d", n)
	}
}

func TestExp32AndTanh32(t *testing.T) {
	for x := float32(-80); x <= 80; x += 0.37 {
		assert.InEpsilon(t, math.Exp(float64(x)), float64(Exp32(x)), 3e-7, "Exp32(%g)", x)
	}
	for x := float32(-25); x <= 25; x += 0.013 {
		assert.InDelta(t, math.Tanh(float64(x)), float64(Tanh32(x)), 2e-7, "Tanh32(%g)", x)
	}
}

// AdamUpdate over long slices (vector path + tail) against a float64
// reference, with moments planted to decay into the subnormal range.
func TestAdamUpdateLongMatchesReferenceAndFlushes(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	const n = 1003
	p, g := randSlice(r, n, 1), randSlice(r, n, 1e-2)
	m, v := randSlice(r, n, 1e-3), randSlice(r, n, 1e-6)
	for i := range v {
		v[i] = float32(math.Abs(float64(v[i])))
		if i%7 == 0 { // dead unit: zero gradient, moments at the edge of the normal range
			p[i], g[i], m[i], v[i] = 0, 0, 1.2e-38, 1.176e-38
		}
	}
	const lr, b1, b2, eps, wd = 1e-3, 0.9, 0.999, 1e-8, 1e-4
	bc1, bc2 := float32(1-math.Pow(b1, 3)), float32(1-math.Pow(b2, 3))
	// The kernel works with float32 constants: 1-β₂ rounded to float32 differs
	// from 0.001 by 1.3e-5 relative, so the reference uses the same roundings.
	fb1, fb2 := float64(float32(b1)), float64(float32(b2))
	c1, c2 := float64(1-float32(b1)), float64(1-float32(b2))
	wp, wm, wv := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range p {
		gi := float64(g[i]) + wd*float64(p[i])
		wm[i] = fb1*float64(m[i]) + c1*gi
		wv[i] = fb2*float64(v[i]) + c2*gi*gi
		if math.Abs(wm[i]) < minNormal32 {
			wm[i] = 0
		}
		if wv[i] < minNormal32 {
			wv[i] = 0
		}
		wp[i] = float64(p[i]) - lr/float64(bc1)*wm[i]/(math.Sqrt(wv[i]/float64(bc2))+eps)
	}
	AdamUpdate(p, g, m, v, lr, b1, b2, eps, bc1, bc2, wd)
	for i := range p {
		require.InDelta(t, wp[i], float64(p[i]), 1e-6, "param %d", i)
		require.InDelta(t, wm[i], float64(m[i]), 1e-5*math.Abs(wm[i])+1e-10, "m %d", i)
		require.InDelta(t, wv[i], float64(v[i]), 1e-6*wv[i]+1e-15, "v %d", i)
		if i%7 == 0 {
			require.Zero(t, m[i], "m %d must be flushed, not subnormal", i)
			require.Zero(t, v[i], "v %d must be flushed", i)
		}
		require.False(t, m[i] != 0 && math.Abs(float64(m[i])) < minNormal32, "m %d subnormal", i)
	}
}

// Sum matches a float64 sum for every length around the eight lanes, and
// adds in its documented order: lane i mod 8, combined pairwise.
func TestSum(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 225, 1000} {
		x := randSlice(r, n, 10)
		var want float64
		var lanes [8]float32
		for i, v := range x {
			want += float64(v)
			lanes[i%8] += v
		}
		got := Sum(x)
		assert.InDelta(t, want, float64(got), 1e-4*float64(n+1), "n=%d", n)
		exact := ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
		assert.Equal(t, exact, got, "n=%d", n)
	}
	assert.Equal(t, float32(3), Sum([]float32{1, 1, 1}))
}
