//go:build openblas

package graph

import (
	"fmt"

	"github.com/hourglass-ml/hourglass/graph/internal/openblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// BLASBackend names the matrix-multiply backend compiled into this build,
// including the CPU core kernel OpenBLAS picked at load time and its thread count.
func BLASBackend() string {
	return fmt.Sprintf("openblas core=%s threads=%d", openblas.CoreName(), openblas.NumThreads())
}

// gemmScratch is unused with OpenBLAS, which packs internally.
type gemmScratch struct{}

func sgemmImpl(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, _ *gemmScratch) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	netlib.Implementation{}.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// serialBLAS runs fn, which calls sgemm from several goroutines at once,
// with OpenBLAS on one thread: its own threads on top of ours would put
// four threads on two cores. The graph runs one op at a time, so no other
// call sees the change.
func serialBLAS(fn func()) {
	n := openblas.NumThreads()
	if n > 1 {
		openblas.SetNumThreads(1)
		defer openblas.SetNumThreads(n)
	}
	fn()
}
