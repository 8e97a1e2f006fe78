//go:build !openblas

package kernels

// SharedA is op(A) of a run of products C = op(A)·op(B) that all use the
// same A — a layer's weights against each image of a batch — packed once by
// Pack instead of once a product. After Pack it is read-only: SgemmShared
// may use it from any number of goroutines at once, until the next Pack.
// A's values must not change in between (without a packed kernel the
// products read A itself). The zero value is ready to Pack.
type SharedA struct {
	transA bool
	m, k   int
	a      []float32
	lda    int
	kern   *gemmKernel // nil: every product is a plain Sgemm
	p      []float32   // depth block p0's row panels from mPanels·mr·p0
}

// Pack records op(A), m×k, and packs its row panels for the packed kernel.
func (s *SharedA) Pack(transA bool, m, k int, a []float32, lda int) {
	*s = SharedA{transA: transA, m: m, k: k, a: a, lda: lda, p: s.p}
	kern := packedKernel()
	if kern == nil || m == 0 || k == 0 || fewRows(kern, m, transA) {
		return // Sgemm's own paths (gonum, few rows) pack nothing
	}
	s.kern = kern
	mr := kern.mr
	mPanels := (m + mr - 1) / mr
	if cap(s.p) < mPanels*mr*k {
		s.p = make([]float32, mPanels*mr*k)
	}
	s.p = s.p[:mPanels*mr*k]
	for p0 := 0; p0 < k; p0 += gemmKC {
		kb := min(gemmKC, k-p0)
		block := s.p[mPanels*mr*p0:]
		for ip := range mPanels {
			packA(mr, transA, a, lda, m, p0, kb, ip, block[ip*kb*mr:])
		}
	}
}

// SgemmShared is Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c,
// ldc, ws) with the transA, m, k, a and lda of the last s.Pack.
func SgemmShared(s *SharedA, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *Scratch) {
	if s.kern == nil || n == 0 {
		Sgemm(s.transA, transB, s.m, n, s.k, s.a, s.lda, b, ldb, beta, c, ldc, ws)
		return
	}
	sgemmPacked(s.kern, s.transA, transB, s.m, n, s.k, s.a, s.lda, b, ldb, beta, c, ldc, ws, s.p)
}
