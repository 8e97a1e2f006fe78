package ops

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// gorgoniaBLAS hands the float32 matrix products that Gorgonia computes
// itself (Conv2d's im2col product, Mul outside DenseAct) to our packed GEMM
// (or OpenBLAS under -tags openblas); every other routine stays gonum's.
type gorgoniaBLAS struct{ gonum.Implementation }

var scratchPool = sync.Pool{New: func() any { return new(kernels.Scratch) }}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, row-major, as gonum does.
func (gorgoniaBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha != 1 {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	ws := scratchPool.Get().(*kernels.Scratch)
	defer scratchPool.Put(ws)
	kernels.Sgemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, a, lda, b, ldb, beta, c, ldc, ws)
}

// Gorgonia keeps its BLAS in a package variable; setting it once when graph
// is loaded is the only way to reach the ops it implements itself.
func init() { gorgonia.Use(gorgoniaBLAS{}) }
