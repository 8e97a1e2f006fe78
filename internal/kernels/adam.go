package kernels

import "math"

// minNormal32 is the smallest positive normal float32. Adam's moments of
// parameters whose gradient stays zero (dead ReLU units) decay geometrically
// into the subnormal range, where every multiply costs ~100 cycles; values
// below this are flushed to zero.
const minNormal32 = 1.17549435e-38

// AdamUpdate applies one Adam step in place (torch.optim.Adam semantics, L2
// weight decay added to the gradient). bc1 = 1-beta1^t and bc2 = 1-beta2^t are
// the bias corrections for step t ≥ 1. param, grad, m and v must have equal
// length; m and v are the first and second moments, flushed to zero when
// their magnitude falls below the smallest normal float32. Large slices are
// split across cores. A grad, m or v shorter than param is a programming
// error and panics (the kernel signature has no error result).
func AdamUpdate(param, grad, m, v []float32, lr, beta1, beta2, eps, bc1, bc2, weightDecay float32) {
	n := len(param)
	grad, m, v = grad[:n], m[:n], v[:n]
	k := adamConsts{
		beta1: beta1, beta2: beta2, c1: 1 - beta1, c2: 1 - beta2, eps: eps, wd: weightDecay,
		step:       lr / bc1,
		invSqrtBC2: float32(1 / math.Sqrt(float64(bc2))),
	}
	ParallelFor(n, 4*n, func(lo, hi int) {
		adamKernel(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], &k)
	})
}

type adamConsts struct {
	beta1, beta2, c1, c2, eps, wd, step, invSqrtBC2 float32
}

func adamKernel(param, grad, m, v []float32, k *adamConsts) {
	n := len(param)
	grad, m, v = grad[:n], m[:n], v[:n]
	j := 0
	if useAsm && n >= 8 {
		j = n &^ 7
		adamAVX2(&param[0], &grad[0], &m[0], &v[0], j, k)
	}
	adamGo(param[j:], grad[j:], m[j:], v[j:], k)
}

// adamGo is the pure-Go twin of adamAVX2: one Adam step over any length.
func adamGo(param, grad, m, v []float32, k *adamConsts) {
	n := len(param)
	grad, m, v = grad[:n], m[:n], v[:n]
	beta1, beta2, c1, c2, eps, wd, step, isb := k.beta1, k.beta2, k.c1, k.c2, k.eps, k.wd, k.step, k.invSqrtBC2
	for i, p := range param {
		g := grad[i] + wd*p
		mi := beta1*m[i] + c1*g
		vi := beta2*v[i] + c2*g*g
		if math.Float32bits(mi)&0x7f800000 == 0 { // zero exponent: ±0 or subnormal
			mi = 0
		}
		if math.Float32bits(vi)&0x7f800000 == 0 {
			vi = 0
		}
		m[i], v[i] = mi, vi
		param[i] = p - step*mi/(float32(math.Sqrt(float64(vi)))*isb+eps)
	}
}
