//go:build !amd64 || purego

package kernels

import "unsafe"

// useAsm is false off amd64 and in -tags purego builds: the exported
// kernels then run their pure-Go twins on the whole slice.
const useAsm = false

// The assembly entry points, as pure-Go twins over the same pointers. The
// dispatchers never call them when useAsm is false; they exist so that
// code written against the assembly signature (and its tests) runs
// everywhere instead of panicking.

func reluBiasAVX2(y, b *float32, n int) { reluBiasGo(unsafe.Slice(y, n), unsafe.Slice(b, n)) }
func sigmoidBiasAVX2(y, b *float32, n int) {
	sigmoidBiasGo(unsafe.Slice(y, n), unsafe.Slice(b, n))
}
func reluGradAVX2(y, gy, dz *float32, n int) {
	reluGradGo(unsafe.Slice(y, n), unsafe.Slice(gy, n), unsafe.Slice(dz, n))
}
func sigmoidGradAVX2(y, gy, dz *float32, n int) {
	sigmoidGradGo(unsafe.Slice(y, n), unsafe.Slice(gy, n), unsafe.Slice(dz, n))
}
func bceGradAVX2(p, t, d *float32, n int, s, eps float32) {
	bceGradGo(unsafe.Slice(p, n), unsafe.Slice(t, n), unsafe.Slice(d, n), s, eps)
}
func addToAVX2(dst, src *float32, n int) { addToGo(unsafe.Slice(dst, n), unsafe.Slice(src, n)) }
func adamAVX2(param, grad, m, v *float32, n int, k *adamConsts) {
	adamGo(unsafe.Slice(param, n), unsafe.Slice(grad, n), unsafe.Slice(m, n), unsafe.Slice(v, n), k)
}
func sqDiffSumAVX2(p, t *float32, n int, acc *[4]float64) {
	sqDiffSumGo(unsafe.Slice(p, n), unsafe.Slice(t, n), acc)
}
func axpyAVX2(dst, src *float32, n int, alpha float32) {
	axpyGo(unsafe.Slice(dst, n), unsafe.Slice(src, n), alpha)
}
func dotAVX2(a, b *float32, n int) float32 { return dotGo(0, unsafe.Slice(a, n), unsafe.Slice(b, n)) }
func bceSumAVX2(p, t *float32, n int, eps float32, acc *[8]float64) int {
	acc[0] += bceSumGo(unsafe.Slice(p, n), unsafe.Slice(t, n), eps)
	return 0xff
}
func sumAVX2(x *float32, n int, acc *[8]float32) { sumGo(unsafe.Slice(x, n), acc) }
