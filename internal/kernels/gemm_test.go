package kernels

import (
	"fmt"
	"math"
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
						var ws Scratch
						Sgemm(tA, tB, m, n, k, a, lda, b, ldb, beta, got, n, &ws)
						for i := range want {
							require.InDelta(t, want[i], got[i], 1e-4*float64(k)+1e-5, "element %d", i)
						}
					})
				}
			}
		}
	}
}

// Leading dimensions larger than the minimum: only the m×n region of C is
// written, and the padding of A and B (NaN here) is never read.
func TestSgemmLeadingDimensions(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	nan := float32(math.NaN())
	const sentinel = float32(12345)
	tests := []struct {
		m, n, k          int
		padA, padB, padC int
	}{
		{1, 1, 1, 1, 1, 1},
		{3, 5, 4, 2, 3, 7},
		{6, 16, 9, 1, 16, 5},
		{2, 40, 33, 5, 1, 3}, // fewer rows than a register tile
		{17, 35, 70, 9, 13, 21},
		{50, 70, 300, 4, 2, 6},
	}
	for _, tc := range tests {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float32{0, 1, 0.5} {
					m, n, k := tc.m, tc.n, tc.k
					t.Run(fmt.Sprintf("%dx%dx%d/tA=%t/tB=%t/beta=%g", m, n, k, tA, tB, beta), func(t *testing.T) {
						// Stored shapes (rows × cols) of A and B as Sgemm sees them.
						ar, ac := m, k
						if tA {
							ar, ac = k, m
						}
						br, bc := k, n
						if tB {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+tc.padA, bc+tc.padB, n+tc.padC
						a := padded(r, ar, ac, lda, nan)
						b := padded(r, br, bc, ldb, nan)
						c := padded(r, m, n, ldc, sentinel)
						c = append(c, sentinel, sentinel) // past the last row too
						want := append([]float32(nil), c...)
						refGemm(tA, tB, m, n, k, a, lda, b, ldb, beta, want, ldc)
						var ws Scratch
						Sgemm(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc, &ws)
						for i := range c {
							row, col := i/ldc, i%ldc
							if row >= m || col >= n {
								require.Equal(t, sentinel, c[i], "C[%d] outside the %dx%d region was written", i, m, n)
								continue
							}
							require.InDelta(t, want[i], c[i], 1e-4*float64(k)+1e-5, "C[%d,%d]", row, col)
						}
					})
				}
			}
		}
	}
}

// padded is a rows×cols matrix of random values with row stride ld, the
// ld-cols padding of each row set to pad.
func padded(r *rand.Rand, rows, cols, ld int, pad float32) []float32 {
	s := make([]float32, rows*ld)
	for i := range s {
		if i%ld < cols {
			s[i] = 2*r.Float32() - 1
		} else {
			s[i] = pad
		}
	}
	return s
}
