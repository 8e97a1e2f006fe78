//go:build !openblas && amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

var (
	kernelAVX512 = gemmKernel{name: "AVX-512 8x32", mr: 8, nr: 32, fn: microKernel8x32}
	kernelAVX2   = gemmKernel{name: "AVX2/FMA 6x16", mr: 6, nr: 16, fn: microKernel6x16}
)

// packedKernel picks the widest micro-kernel this CPU runs, or nil (gonum fallback).
func packedKernel() *gemmKernel {
	switch {
	case cpu.X86.HasAVX512F:
		return &kernelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return &kernelAVX2
	}
	return nil
}

// microKernel6x16 adds A·B (k ≥ 1 deep) into the 6×16 tile at c (row stride
// ldc floats), or overwrites it when acc is 0; A's element (r, p) is at
// a[r*rs + p*ps], B's row p at b[p*bs:].
//
//go:noescape
func microKernel6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, acc int)

// microKernel8x32 is the AVX-512 8×32 counterpart of microKernel6x16.
//
//go:noescape
func microKernel8x32(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, acc int)

// asmKernels lists every assembly micro-kernel this CPU can run (for tests).
func asmKernels() []*gemmKernel {
	var ks []*gemmKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, &kernelAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &kernelAVX2)
	}
	return ks
}
