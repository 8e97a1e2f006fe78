//go:build openblas

package kernels

import (
	"fmt"
	"sync"

	"github.com/hourglass-ml/hourglass/internal/kernels/openblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// BLASBackend names the matrix-multiply backend compiled into this build,
// including the CPU core kernel OpenBLAS picked at load time and its thread count.
func BLASBackend() string {
	return fmt.Sprintf("openblas core=%s threads=%d", openblas.CoreName(), openblas.NumThreads())
}

// Scratch is unused with OpenBLAS, which packs internally.
type Scratch struct{}

func sgemmImpl(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, _ *Scratch) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	netlib.Implementation{}.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// SharedA is op(A) of a run of products that share it (see the pure-Go
// build's SharedA). OpenBLAS packs inside each call, so it only records A.
type SharedA struct {
	transA bool
	m, k   int
	a      []float32
	lda    int
}

// Pack records op(A), m×k.
func (s *SharedA) Pack(transA bool, m, k int, a []float32, lda int) {
	*s = SharedA{transA: transA, m: m, k: k, a: a, lda: lda}
}

// SgemmShared is Sgemm with the transA, m, k, a and lda of the last s.Pack.
func SgemmShared(s *SharedA, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *Scratch) {
	Sgemm(s.transA, transB, s.m, n, s.k, s.a, s.lda, b, ldb, beta, c, ldc, ws)
}

// spinFor is zero under OpenBLAS: its own threads spin between calls, and
// a pool worker spinning beside them took their core (the deep model's
// training ran 3× slower with both spinning).
const spinFor = 0

// SerialBLAS runs fn, which calls Sgemm from several goroutines at once,
// with OpenBLAS on one thread: its own threads on top of ours would put
// four threads on two cores. The thread count is process-wide OpenBLAS
// state, so concurrent callers (graphs run from several goroutines) share
// one reduction: the first to enter sets one thread, the last to leave
// restores the count.
func SerialBLAS(fn func()) {
	serial.Lock()
	if serial.depth == 0 {
		serial.saved = openblas.NumThreads()
		if serial.saved > 1 {
			openblas.SetNumThreads(1)
		}
	}
	serial.depth++
	serial.Unlock()
	defer func() {
		serial.Lock()
		serial.depth--
		if serial.depth == 0 && serial.saved > 1 {
			openblas.SetNumThreads(serial.saved)
		}
		serial.Unlock()
	}()
	fn()
}

// serial mirrors OpenBLAS's process-wide thread count, the one piece of
// global state here: it cannot be per caller because OpenBLAS's is not.
var serial struct {
	sync.Mutex
	depth, saved int
}
