//go:build !openblas

package graph

import (
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

func sgemmImpl(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *gemmScratch) {
	if kern := packedKernel(); kern != nil {
		sgemmPacked(kern, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, ws)
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
