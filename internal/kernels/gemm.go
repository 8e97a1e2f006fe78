package kernels

// Sgemm computes C = op(A)·op(B) + beta·C for dense row-major float32
// matrices, where op(X) is X or Xᵀ. C is m×n and the inner dimension is k.
// The implementation is chosen at build time: gemm_native.go (pure Go,
// default) or gemm_openblas.go (cgo OpenBLAS, -tags openblas).
func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *Scratch) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	sgemmImpl(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, ws)
}

func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
