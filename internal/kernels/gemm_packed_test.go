//go:build !openblas

package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

func randF32(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

// checkPacked runs sgemmPacked with kern over shapes, transposes and betas
// against the float64 reference.
func checkPacked(t *testing.T, kern *gemmKernel) {
	r := rand.New(rand.NewSource(3))
	// The last three are large enough to split across the worker pool:
	// column panels with every A panel packed in parallel (transposed A with
	// a stride a multiple of 16), two depth blocks with ragged column panels,
	// and ragged row panels under few column panels. Widths 80 and 48 give
	// B a row stride of an odd number of cache lines, read in place (with
	// a packed ragged panel), over one and two depth blocks.
	for _, s := range [][3]int{{1, 1, 1}, {7, 33, 5}, {8, 32, 257}, {50, 70, 300}, {24, 96, 130},
		{256, 128, 64}, {48, 100, 1100}, {130, 40, 400}, {40, 80, 300}, {130, 48, 1100}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, beta := range []float32{0, 1, 0.5} {
				m, n, k := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("%s/%dx%dx%d/%v/beta=%g", kern.name, m, n, k, tr, beta), func(t *testing.T) {
					a, b := randF32(r, m*k), randF32(r, k*n)
					lda, ldb := k, n
					if tr[0] {
						lda = m
					}
					if tr[1] {
						ldb = k
					}
					want, got := randF32(r, m*n), make([]float32, m*n)
					copy(got, want)
					if beta == 0 { // C must not be read: NaN garbage may not leak through
						for i := range got {
							got[i] = float32(math.NaN())
						}
					}
					refGemm(tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, want, n)
					sgemmPacked(kern, tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, got, n, &Scratch{}, nil)
					for i := range want {
						require.InDelta(t, want[i], got[i], 1e-4*float64(k)+1e-5, "element %d", i)
					}
				})
			}
		}
	}
}

// Every assembly micro-kernel the CPU supports, not just the one picked,
// must match the reference.
func TestPackedKernelsMatchReference(t *testing.T) {
	ks := asmKernels()
	if len(ks) == 0 {
		t.Skip("no assembly GEMM micro-kernel to test: the CPU lacks AVX2+FMA and AVX-512F, or this is a -tags purego build")
	}
	for _, kern := range ks {
		checkPacked(t, kern)
	}
}

// The pure-Go twins run on every machine.
func TestPackedGoKernelsMatchReference(t *testing.T) {
	for _, kern := range goKernels() {
		checkPacked(t, kern)
	}
}

// Each assembly micro-kernel and its pure-Go twin compute the same tile, in
// place and transposed A, overwriting and accumulating, and leave C's
// padding (row stride ldc > NR) alone.
func TestMicroKernelTwinsMatchAssembly(t *testing.T) {
	ks := asmKernels()
	if len(ks) == 0 {
		t.Skip("no assembly GEMM micro-kernel to compare: the CPU lacks AVX2+FMA and AVX-512F, or this is a -tags purego build")
	}
	twins := map[int]*gemmKernel{6: &kernelGo6x16, 8: &kernelGo8x32}
	r := rand.New(rand.NewSource(11))
	for _, kern := range ks {
		twin := twins[kern.mr]
		require.Equal(t, kern.nr, twin.nr, "twin of %s", kern.name)
		mr, nr := kern.mr, kern.nr
		for _, k := range []int{1, 2, 7, 64, 129} {
			for _, trans := range []bool{false, true} {
				for _, acc := range []int{0, 1} {
					t.Run(fmt.Sprintf("%s/k=%d/transA=%t/acc=%d", kern.name, k, trans, acc), func(t *testing.T) {
						lda := k + 3
						rs, ps := lda, 1
						if trans {
							lda = mr + 5
							rs, ps = 1, lda
						}
						a := randF32(r, (mr+5)*(k+3))
						bs := nr + 4
						b := randF32(r, k*bs)
						ldc := nr + 9
						c0 := randF32(r, mr*ldc)
						want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						twin.fn(k, &a[0], rs, ps, &b[0], bs, &want[0], ldc, acc)
						kern.fn(k, &a[0], rs, ps, &b[0], bs, &got[0], ldc, acc)
						for i := range want {
							if i%ldc >= nr {
								require.Equal(t, c0[i], got[i], "padding element %d written", i)
								continue
							}
							require.InDelta(t, want[i], got[i], 1e-5*float64(k)+1e-6, "element %d", i)
						}
					})
				}
			}
		}
	}
}

// packB's transposed path (four source rows at a time, a ragged tail, zero
// padding past n) must lay out exactly what the one-element-at-a-time
// definition does, over stale destination contents.
func TestPackBTransposed(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, tc := range []struct{ nr, n, kb, p0, jp int }{
		{32, 64, 7, 0, 0}, {32, 64, 256, 3, 1}, {32, 45, 10, 0, 1}, {32, 3, 5, 2, 0}, {16, 30, 9, 1, 1},
	} {
		ldb := tc.p0 + tc.kb + 3
		b := randF32(r, tc.n*ldb)
		got := randF32(r, tc.kb*tc.nr) // stale contents must all be overwritten
		packB(tc.nr, true, b, ldb, tc.n, tc.p0, tc.kb, tc.jp, got)
		want := make([]float32, tc.kb*tc.nr)
		for p := 0; p < tc.kb; p++ {
			for c := 0; c < tc.nr; c++ {
				if j := tc.jp*tc.nr + c; j < tc.n {
					want[p*tc.nr+c] = b[j*ldb+tc.p0+p]
				}
			}
		}
		require.Equal(t, want, got, "%+v", tc)
	}
}

func BenchmarkPackBTransposed(b *testing.B) {
	const nr, n, kb, ldb = 32, 784, 256, 400
	src, dst := randF32(rand.New(rand.NewSource(1)), n*ldb), make([]float32, kb*nr)
	b.SetBytes(kb * nr * 4)
	for b.Loop() {
		for jp := 0; jp < n/nr; jp++ {
			packB(nr, true, src, ldb, n, 0, kb, jp, dst)
		}
	}
}

// SgemmShared gives Sgemm's bits for every product of a run sharing op(A),
// packed once: both transpositions, ragged row panels, two depth blocks,
// fewer rows than a tile, and B's that differ from call to call; a second
// Pack replaces the first.
func TestSgemmSharedMatchesSgemm(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	var s SharedA
	for _, sh := range [][3]int{{1, 5, 3}, {7, 33, 5}, {64, 49, 288}, {256, 64, 128}, {130, 40, 1100}, {9, 300, 64}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			a := randF32(r, m*k)
			lda := k
			if tr[0] {
				lda = m
			}
			s.Pack(tr[0], m, k, a, lda)
			for _, beta := range []float32{0, 1} {
				b := randF32(r, k*n)
				ldb := n
				if tr[1] {
					ldb = k
				}
				want := randF32(r, m*n)
				got := append([]float32(nil), want...)
				Sgemm(tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, want, n, &Scratch{})
				SgemmShared(&s, tr[1], n, b, ldb, beta, got, n, &Scratch{})
				require.Equal(t, want, got, "%dx%dx%d %v beta=%g", m, n, k, tr, beta)
			}
		}
	}
}
