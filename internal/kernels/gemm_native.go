//go:build !openblas

package kernels

import (
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLASBackend names the matrix-multiply backend compiled into this build.
func BLASBackend() string {
	if k := packedKernel(); k != nil {
		return "pure Go: packed " + k.name + " kernel"
	}
	return "pure Go: gonum native"
}

// spinFor is how long a pool worker spins for the next call before it
// parks: longer than the serial stretch between two products of a training
// step, short enough that an idle process stops using the core at once.
const spinFor = 2 * time.Millisecond

// SerialBLAS runs fn, which calls sgemm from several goroutines at once; the
// Go kernel needs nothing for that (see gemm_openblas.go).
func SerialBLAS(fn func()) { fn() }

func sgemmImpl(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *Scratch) {
	if kern := packedKernel(); kern != nil {
		if fewRows(kern, m, transA) {
			sgemmFewRows(transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
			return
		}
		sgemmPacked(kern, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, ws, nil)
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// fewRows reports a product with fewer rows than a register tile (A not
// transposed): packing B would cost as much as the product, and most of
// each tile would be wasted, so sgemmFewRows computes it by rows instead.
func fewRows(kern *gemmKernel, m int, transA bool) bool { return m < kern.mr && !transA }

// sgemmFewRows is C = A·op(B) + beta·C for a row-major A of a few rows, by
// rows: each row of C is a sum of rows of B scaled by A's entries (B not
// transposed), or a dot product of A's row with each row of B (transposed);
// both read B once, in place.
func sgemmFewRows(transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if beta != 1 {
		scaleRows(m, n, beta, c, ldc)
	}
	for i := range m {
		ci, ai := c[i*ldc:i*ldc+n], a[i*lda:i*lda+k]
		if transB {
			for j := range ci {
				ci[j] += Dot(ai, b[j*ldb:j*ldb+k])
			}
			continue
		}
		for p, v := range ai {
			Axpy(ci, b[p*ldb:p*ldb+n], v)
		}
	}
}
