//go:build !openblas

package kernels

import "unsafe"

// Pure-Go twins of the assembly micro-kernels (same tile sizes, same
// arguments). They are checked against the assembly and against a float64
// reference in the tests. Production builds without an assembly kernel
// (off amd64, no AVX2/FMA, -tags purego) keep gonum's Sgemm, as before the
// twins existed, so their numerics do not change.
var (
	kernelGo6x16 = gemmKernel{name: "pure Go 6x16", mr: 6, nr: 16, fn: microKernelGo6x16}
	kernelGo8x32 = gemmKernel{name: "pure Go 8x32", mr: 8, nr: 32, fn: microKernelGo8x32}
)

func microKernelGo6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, acc int) {
	microKernelGo(6, 16, k, a, rs, ps, b, bs, c, ldc, acc)
}

func microKernelGo8x32(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, acc int) {
	microKernelGo(8, 32, k, a, rs, ps, b, bs, c, ldc, acc)
}

// microKernelGo adds A·B (k ≥ 1 deep) into the mr×nr tile at c (row stride
// ldc), or overwrites it when acc is 0; A's element (r, p) is at
// a[r*rs + p*ps], B's row p at b[p*bs:]. The sum is formed in a local tile
// first, as the assembly does in registers.
func microKernelGo(mr, nr, k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, acc int) {
	as := unsafe.Slice(a, (mr-1)*rs+(k-1)*ps+1)
	bsl := unsafe.Slice(b, (k-1)*bs+nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	var t [maxTile]float32
	for p := range k {
		brow := bsl[p*bs : p*bs+nr]
		for r := range mr {
			av := as[r*rs+p*ps]
			tr := t[r*nr : r*nr+nr]
			for j, bv := range brow {
				tr[j] += av * bv
			}
		}
	}
	for r := range mr {
		dst, src := cs[r*ldc:r*ldc+nr], t[r*nr:r*nr+nr]
		if acc == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] += v
		}
	}
}

// goKernels lists the pure-Go twins (for tests).
func goKernels() []*gemmKernel { return []*gemmKernel{&kernelGo6x16, &kernelGo8x32} }
