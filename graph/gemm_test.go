package graph

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

func refGemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] = float32(s) + beta*c[i*ldc+j]
		}
	}
}

func TestSgemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = 2*r.Float32() - 1
		}
		return s
	}
	shapes := [][3]int{{1, 1, 1}, {5, 7, 3}, {6, 16, 1}, {1, 784, 288}, {2, 29, 35}, {13, 33, 300}, {40, 130, 300}, {66, 40, 520}, {37, 64, 520}}
	for _, s := range shapes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float32{0, 1, 0.5} {
					m, n, k := s[0], s[1], s[2]
					t.Run(fmt.Sprintf("%dx%dx%d/tA=%t/tB=%t/beta=%g", m, n, k, tA, tB, beta), func(t *testing.T) {
						a, b := rnd(m*k), rnd(k*n)
						lda, ldb := k, n
						if tA {
							lda = m
						}
						if tB {
							ldb = k
						}
						c0 := rnd(m * n)
						want := append([]float32(nil), c0...)
						got := append([]float32(nil), c0...)
						refGemm(tA, tB, m, n, k, a, lda, b, ldb, beta, want, n)
						var ws gemmScratch
						sgemm(tA, tB, m, n, k, a, lda, b, ldb, beta, got, n, &ws)
						for i := range want {
							require.InDelta(t, want[i], got[i], 1e-4*float64(k)+1e-5, "element %d", i)
						}
					})
				}
			}
		}
	}
}
