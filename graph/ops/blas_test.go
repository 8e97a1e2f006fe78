package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

func TestGorgoniaBLASMatchesGonum(t *testing.T) {
	_, ok := gorgonia.WhichBLAS().(gorgoniaBLAS)
	assert.True(t, ok, "graph must route Gorgonia's products through its own GEMM")
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, tc := range []struct {
		tA, tB  blas.Transpose
		m, n, k int
		alpha   float32
		beta    float32
	}{
		{blas.NoTrans, blas.NoTrans, 37, 29, 53, 1, 0},
		{blas.Trans, blas.NoTrans, 64, 33, 17, 1, 1},
		{blas.NoTrans, blas.Trans, 5, 70, 9, 1, 0.5},
		{blas.Trans, blas.Trans, 12, 12, 12, 2, 0},
	} {
		lda, ldb := tc.k, tc.n
		if tc.tA == blas.Trans {
			lda = tc.m
		}
		if tc.tB == blas.Trans {
			ldb = tc.k
		}
		a, b, c := fill(tc.m*tc.k), fill(tc.k*tc.n), fill(tc.m*tc.n)
		want := append([]float32(nil), c...)
		gonum.Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, tc.n)
		gorgoniaBLAS{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, tc.n)
		assert.InDeltaSlice(t, toF64(want), toF64(c), 1e-3, "%+v", tc)
	}
}

func toF64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
