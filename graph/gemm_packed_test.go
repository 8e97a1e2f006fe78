//go:build !openblas

package graph

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every micro-kernel the CPU supports, not just the one picked, must match the reference.
func TestPackedKernelsMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = 2*r.Float32() - 1
		}
		return s
	}
	for _, kern := range supportedKernels() {
		for _, s := range [][3]int{{1, 1, 1}, {7, 33, 5}, {8, 32, 257}, {50, 70, 300}, {24, 96, 130}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, beta := range []float32{0, 1, 0.5} {
					m, n, k := s[0], s[1], s[2]
					t.Run(fmt.Sprintf("%s/%dx%dx%d/%v/beta=%g", kern.name, m, n, k, tr, beta), func(t *testing.T) {
						a, b := rnd(m*k), rnd(k*n)
						lda, ldb := k, n
						if tr[0] {
							lda = m
						}
						if tr[1] {
							ldb = k
						}
						want, got := rnd(m*n), make([]float32, m*n)
						copy(got, want)
						if beta == 0 { // C must not be read: NaN garbage may not leak through
							for i := range got {
								got[i] = float32(math.NaN())
							}
						}
						refGemm(tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, want, n)
						sgemmPacked(kern, tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, got, n, &gemmScratch{})
						for i := range want {
							require.InDelta(t, want[i], got[i], 1e-4*float64(k)+1e-5, "element %d", i)
						}
					})
				}
			}
		}
	}
}
