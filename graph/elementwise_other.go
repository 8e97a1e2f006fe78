//go:build !amd64

package graph

const hasAVX2FMA = false

func reluBiasAVX2(y, b *float32, n int)                         { panic("unreachable") }
func sigmoidBiasAVX2(y, b *float32, n int)                      { panic("unreachable") }
func reluGradAVX2(y, gy, dz *float32, n int)                    { panic("unreachable") }
func sigmoidGradAVX2(y, gy, dz *float32, n int)                 { panic("unreachable") }
func addToAVX2(dst, src *float32, n int)                        { panic("unreachable") }
func adamAVX2(param, grad, m, v *float32, n int, k *adamConsts) { panic("unreachable") }
func sqDiffSumAVX2(p, t *float32, n int, acc *[4]float64)       { panic("unreachable") }
func axpyAVX2(dst, src *float32, n int, alpha float32)          { panic("unreachable") }
func dotAVX2(a, b *float32, n int) float32                      { panic("unreachable") }
