//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// useAsm selects the assembly elementwise kernels; fixed at start-up and
// never written after (-tags purego forces the pure-Go twins instead).
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func reluBiasAVX2(y, b *float32, n int)

//go:noescape
func sigmoidBiasAVX2(y, b *float32, n int)

//go:noescape
func reluGradAVX2(y, gy, dz *float32, n int)

//go:noescape
func sigmoidGradAVX2(y, gy, dz *float32, n int)

//go:noescape
func bceGradAVX2(p, t, d *float32, n int, s, eps float32)

//go:noescape
func addToAVX2(dst, src *float32, n int)

//go:noescape
func adamAVX2(param, grad, m, v *float32, n int, k *adamConsts)

//go:noescape
func sqDiffSumAVX2(p, t *float32, n int, acc *[4]float64)

//go:noescape
func axpyAVX2(dst, src *float32, n int, alpha float32)

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func sumAVX2(x *float32, n int, acc *[8]float32)

// bceSumAVX2 adds Σ t·log(p+eps) + (1−t)·log(1−p+eps) over n floats (a
// multiple of 8) into acc's eight lanes and returns the lanes (a bit each)
// whose log arguments were all positive normal floats.
//
//go:noescape
func bceSumAVX2(p, t *float32, n int, eps float32, acc *[8]float64) int
