package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// The exported kernels (assembly body + Go tail) against their pure-Go twins
// run over the whole slice, for lengths that are and are not multiples of
// the vector width (8 floats; 16 for Dot). Run with -tags purego to check
// that the pure-Go path alone passes the other tests.
// BCESum's assembly body (float32 logarithms, eight lanes) against its
// float64 twin, on sigmoid-like outputs and targets in [0, 1] with many exact
// 0s and 1s as images have; and the twin's answer, not a garbage mantissa,
// when a log argument is NaN, infinite, zero or negative.
func TestBCESumMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	const eps = 1e-7
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 1000, 4096} {
		p, tg := make([]float32, n), make([]float32, n)
		for i := range p {
			p[i] = r.Float32()
			switch r.Intn(4) {
			case 0:
				tg[i] = 0
			case 1:
				tg[i] = 1
			default:
				tg[i] = r.Float32()
			}
		}
		if n > 3 {
			p[0], p[1], p[2] = 0, 1, 1e-30 // saturated outputs: eps keeps the logs finite
		}
		want := bceSumGo(p, tg, eps)
		got := BCESum(p, tg, eps)
		require.InDelta(t, want, got, 1e-6*(1+math.Abs(want)), "n=%d", n)
		if n > 0 {
			require.Less(t, got, 0.0, "a log-likelihood of values in (0, 1) is negative, n=%d", n)
		}
	}
	for _, tc := range []struct {
		name string
		bad  float32
		nan  bool // NaN, else -Inf
	}{
		{"NaN", float32(math.NaN()), true},
		{"+Inf", float32(math.Inf(1)), true},
		{"below 0", -2, true},
		{"above 1", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tg := make([]float32, 64), make([]float32, 64)
			for i := range p {
				p[i], tg[i] = 0.5, 0.25
			}
			p[13] = tc.bad
			got := BCESum(p, tg, eps)
			require.True(t, math.IsNaN(got), "BCESum with p=%v gave %v", tc.bad, got)
			require.True(t, math.IsNaN(bceSumGo(p, tg, eps)))
		})
	}
	// −eps exactly: log(0) = −Inf on the twin, and on the assembly path too.
	p, tg := make([]float32, 16), make([]float32, 16)
	for i := range p {
		p[i], tg[i] = 0.5, 0.5
	}
	p[3] = -eps
	require.True(t, math.IsInf(BCESum(p, tg, eps), -1))
}

// BenchmarkBCESum is one VAE batch's loss (128 images of 784 pixels).
func BenchmarkBCESum(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	p, tg := make([]float32, 128*784), make([]float32, 128*784)
	for i := range p {
		p[i], tg[i] = r.Float32(), float32(r.Intn(3))/2
	}
	b.Run("asm", func(b *testing.B) {
		for b.Loop() {
			BCESum(p, tg, 1e-7)
		}
	})
	b.Run("twin", func(b *testing.B) {
		for b.Loop() {
			bceSumGo(p, tg, 1e-7)
		}
	})
}

func TestElementwiseTwinsMatchAssembly(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly to compare: the CPU lacks AVX2 or FMA, this is not amd64, or this is a -tags purego build")
	}
	r := rand.New(rand.NewSource(17))
	clone := func(s []float32) []float32 { return append([]float32(nil), s...) }
	near := func(t *testing.T, want, got []float32, tol float64, what string) {
		t.Helper()
		require.Len(t, got, len(want))
		for i := range want {
			require.InDelta(t, want[i], got[i], tol*(1+math.Abs(float64(want[i]))), "%s[%d]", what, i)
		}
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 67, 100, 1001} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			y, b, gy := randSlice(r, n, 30), randSlice(r, n, 100), randSlice(r, n, 1)

			got, want := clone(y), clone(y)
			BiasReLU(got, b)
			reluBiasGo(want, b)
			require.Equal(t, want, got, "BiasReLU")

			got, want = clone(y), clone(y)
			BiasSigmoid(got, b)
			sigmoidBiasGo(want, b)
			near(t, want, got, 1e-6, "BiasSigmoid")

			ys := randSlice(r, n, 1)
			for i := range ys {
				ys[i] = 0.5 + ys[i]/2
			}
			got, want = make([]float32, n), make([]float32, n)
			ReLUGrad(y, gy, got)
			reluGradGo(y, gy, want)
			require.Equal(t, want, got, "ReLUGrad")
			SigmoidGrad(ys, gy, got)
			sigmoidGradGo(ys, gy, want)
			near(t, want, got, 1e-6, "SigmoidGrad")

			// BCEGrad: the same bits both ways, p over [0, 1] with its ends.
			tt := randSlice(r, n, 1)
			for i := range tt {
				tt[i] = 0.5 + tt[i]/2
			}
			if n > 2 {
				ys[0], ys[1] = 0, 1
			}
			got, want = make([]float32, n), make([]float32, n)
			BCEGrad(ys, tt, got, -0.37, 1e-7)
			bceGradGo(ys, tt, want, -0.37, 1e-7)
			require.Equal(t, want, got, "BCEGrad")

			src := randSlice(r, n, 1)
			got, want = clone(y), clone(y)
			AddTo(got, src)
			addToGo(want, src)
			require.Equal(t, want, got, "AddTo")

			got, want = clone(y), clone(y)
			Axpy(got, src, 0.37)
			axpyGo(want, src, 0.37)
			near(t, want, got, 1e-6, "Axpy") // FMA rounds once

			require.InDelta(t, dotGo(0, y, src), Dot(y, src), 1e-4*float64(n+1), "Dot") // summation order differs

			var acc [4]float64
			sqDiffSumGo(y, src, &acc)
			require.InEpsilon(t, acc[0]+acc[1]+acc[2]+acc[3]+1, SqDiffSum(y, src)+1, 1e-12, "SqDiffSum")

			p, g := randSlice(r, n, 1), randSlice(r, n, 1e-2)
			m, v := randSlice(r, n, 1e-3), randSlice(r, n, 1e-6)
			for i := range v {
				v[i] = float32(math.Abs(float64(v[i])))
			}
			k := adamConsts{beta1: 0.9, beta2: 0.999, c1: 0.1, c2: 0.001, eps: 1e-8, wd: 1e-4, step: 1e-3 / 0.271, invSqrtBC2: 1 / float32(math.Sqrt(0.002997))}
			pg, mg, vg := clone(p), clone(m), clone(v)
			adamKernel(pg, g, mg, vg, &k)
			adamGo(p, g, m, v, &k)
			near(t, p, pg, 1e-6, "Adam param")
			near(t, m, mg, 1e-6, "Adam m")
			near(t, v, vg, 1e-6, "Adam v")
		})
	}
}
