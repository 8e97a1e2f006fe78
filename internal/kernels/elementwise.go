package kernels

import "math"

// The exported elementwise kernels below run the assembly body (AVX2/FMA,
// n rounded down to the vector width) when useAsm is set and finish the
// tail, or the whole slice otherwise, with the pure-Go twin of the same
// routine. The twins are what runs off amd64, on CPUs without AVX2/FMA and
// in -tags purego builds, and what elementwise_twin_test.go checks the
// assembly against.

// BiasReLU sets y[i] = max(y[i]+b[i], 0); b has at least len(y) values.
func BiasReLU(y, b []float32) {
	b = b[:len(y)]
	j := 0
	if useAsm && len(y) >= 8 {
		j = len(y) &^ 7
		reluBiasAVX2(&y[0], &b[0], j)
	}
	reluBiasGo(y[j:], b[j:])
}

// BiasSigmoid sets y[i] = Sigmoid32(y[i]+b[i]).
func BiasSigmoid(y, b []float32) {
	b = b[:len(y)]
	j := 0
	if useAsm && len(y) >= 8 {
		j = len(y) &^ 7
		sigmoidBiasAVX2(&y[0], &b[0], j)
	}
	sigmoidBiasGo(y[j:], b[j:])
}

// BiasTanh sets y[i] = Tanh32(y[i]+b[i]) (pure Go: no assembly routine).
func BiasTanh(y, b []float32) {
	b = b[:len(y)]
	for j, bj := range b {
		y[j] = Tanh32(y[j] + bj)
	}
}

// BiasAdd sets y[i] += b[i].
func BiasAdd(y, b []float32) {
	b = b[:len(y)]
	for j, bj := range b {
		y[j] += bj
	}
}

// ReLUGrad writes dz = gy where y > 0, else 0 (ReLU's derivative through
// its output y).
func ReLUGrad(y, gy, dz []float32) {
	gy, dz = gy[:len(y)], dz[:len(y)]
	j := 0
	if useAsm && len(y) >= 8 {
		j = len(y) &^ 7
		reluGradAVX2(&y[0], &gy[0], &dz[0], j)
	}
	reluGradGo(y[j:], gy[j:], dz[j:])
}

// SigmoidGrad writes dz = gy·y·(1−y) (the sigmoid's derivative through its
// output y).
func SigmoidGrad(y, gy, dz []float32) {
	gy, dz = gy[:len(y)], dz[:len(y)]
	j := 0
	if useAsm && len(y) >= 8 {
		j = len(y) &^ 7
		sigmoidGradAVX2(&y[0], &gy[0], &dz[0], j)
	}
	sigmoidGradGo(y[j:], gy[j:], dz[j:])
}

// BCEGrad writes d = s·(t/(p+eps) − (1−t)/(1−p+eps)), the binary
// cross-entropy's gradient with respect to p scaled by s. The assembly
// kernel divides eight at a time in the same order as the Go twin, so both
// give the same bits (two scalar divisions a value were 3% of a VAE step).
func BCEGrad(p, t, d []float32, s, eps float32) {
	t, d = t[:len(p)], d[:len(p)]
	j := 0
	if useAsm && len(p) >= 8 {
		j = len(p) &^ 7
		bceGradAVX2(&p[0], &t[0], &d[0], j, s, eps)
	}
	bceGradGo(p[j:], t[j:], d[j:], s, eps)
}

// TanhGrad writes dz = gy·(1−y²) (pure Go: no assembly routine).
func TanhGrad(y, gy, dz []float32) {
	gy, dz = gy[:len(y)], dz[:len(y)]
	for i, v := range y {
		dz[i] = gy[i] * (1 - v*v)
	}
}

// FlushSubnormals sets values whose exponent bits are zero (subnormals) to 0.
func FlushSubnormals(x []float32) {
	for i, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0 {
			x[i] = 0
		}
	}
}

// AddTo does dst += src elementwise.
func AddTo(dst, src []float32) {
	src = src[:len(dst)]
	j := 0
	if useAsm && len(dst) >= 8 {
		j = len(dst) &^ 7
		addToAVX2(&dst[0], &src[0], j)
	}
	addToGo(dst[j:], src[j:])
}

// Axpy is dst += alpha·src.
func Axpy(dst, src []float32, alpha float32) {
	src = src[:len(dst)]
	j := 0
	if useAsm && len(dst) >= 8 {
		j = len(dst) &^ 7
		axpyAVX2(&dst[0], &src[0], j, alpha)
	}
	axpyGo(dst[j:], src[j:], alpha)
}

// Sum is Σ x, element i added into partial sum i mod 8 and the eight
// combined pairwise at the end: eight independent chains of additions
// instead of one (a single running sum waits on every add's latency, which
// made a conv bias gradient 5% of a conv step). The assembly adds the same
// lanes in the same order, so every build and CPU gives the same bits.
func Sum(x []float32) float32 {
	var a [8]float32
	j := len(x) &^ 7
	if useAsm && j > 0 {
		sumAVX2(&x[0], j, &a)
	} else {
		sumGo(x[:j], &a)
	}
	for i, v := range x[j:] {
		a[i] += v
	}
	return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

// sumGo adds x (a multiple of 8 long) into the lanes of a, as sumAVX2 does.
func sumGo(x []float32, a *[8]float32) {
	for j := 0; j+8 <= len(x); j += 8 {
		v := x[j : j+8 : j+8]
		a[0] += v[0]
		a[1] += v[1]
		a[2] += v[2]
		a[3] += v[3]
		a[4] += v[4]
		a[5] += v[5]
		a[6] += v[6]
		a[7] += v[7]
	}
}

// Dot is Σ a·b.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	j := 0
	if useAsm && len(a) >= 16 {
		j = len(a) &^ 15
		s = dotAVX2(&a[0], &b[0], j)
	}
	return dotGo(s, a[j:], b[j:])
}

// SqDiffSum is Σ(p-t)² with float64 accumulation: exact enough for 10⁶ terms.
func SqDiffSum(p, t []float32) float64 {
	var acc [4]float64
	t = t[:len(p)]
	j := 0
	if useAsm && len(p) >= 8 {
		j = len(p) &^ 7
		sqDiffSumAVX2(&p[0], &t[0], j, &acc)
	}
	sqDiffSumGo(p[j:], t[j:], &acc)
	return acc[0] + acc[1] + acc[2] + acc[3]
}

// BCESum is Σ t·log(p+eps) + (1−t)·log(1−p+eps), the binary cross-entropy's
// log-likelihood, accumulated in float64. The assembly kernel takes both
// logarithms eight at a time in float32 (Cephes logf, ~1 ulp) instead of
// two float64 math.Log calls a value, which were a quarter of a VAE step.
// If any log argument is not a positive normal float (a NaN, an infinity,
// p outside [0, 1]), the whole sum is taken by the pure-Go twin, so such
// input gives math.Log's NaN or −Inf, never a garbage mantissa.
func BCESum(p, t []float32, eps float32) float64 {
	t = t[:len(p)]
	j := 0
	var s float64
	if useAsm && len(p) >= 8 {
		j = len(p) &^ 7
		var acc [8]float64
		if bceSumAVX2(&p[0], &t[0], j, eps, &acc) != 0xff {
			return bceSumGo(p, t, eps)
		}
		for _, v := range acc {
			s += v
		}
	}
	return s + bceSumGo(p[j:], t[j:], eps)
}

// Sigmoid32 is 1/(1+e^-z) with a float32 exp. z is clamped to ±80 (the
// result is then within 2e-35 of 0 or 1) so no overflow or subnormal leaks
// into later passes; the assembly kernel does the same.
func Sigmoid32(z float32) float32 {
	z = min(max(z, -80), 80)
	return 1 / (1 + Exp32(-z))
}

// Tanh32 is tanh via 1 - 2/(e^{2z}+1), saturating beyond ±20.
func Tanh32(z float32) float32 {
	if z > 20 {
		return 1
	}
	if z < -20 {
		return -1
	}
	if z > -0.05 && z < 0.05 {
		// The exp form cancels badly near 0; the series is exact to float32 here.
		z2 := z * z
		return z * (1 - z2*(1.0/3-z2*(2.0/15)))
	}
	return 1 - 2/(Exp32(2*z)+1)
}

// Exp32 is e^x for |x| ≤ 88 (Cephes expf: range reduction by ln 2 and a
// degree-5 polynomial, ~1 ulp), several times faster than float64 math.Exp.
func Exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	k := x*log2e + 0.5
	if x < 0 {
		k -= 1
	}
	n := float32(int32(k))
	r := x - n*ln2hi - n*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// ---------------------------------------------------------------------------
// Pure-Go twins of the assembly routines in elementwise_amd64.s: same
// arguments as slices, any length.

// bceSumGo is BCESum in float64 throughout. A term whose weight is exactly
// zero (t = 0 or t = 1, most pixels of an image) is skipped rather than
// computed as 0·log(…), which it equals: log(·+eps) is finite.
func bceSumGo(p, t []float32, eps float32) float64 {
	t = t[:len(p)]
	var s float64
	for i, v := range p {
		ti := t[i]
		if ti != 0 {
			s += float64(ti) * math.Log(float64(v+eps))
		}
		if ti != 1 {
			s += float64(1-ti) * math.Log(float64(1-v+eps))
		}
	}
	return s
}

func reluBiasGo(y, b []float32) {
	b = b[:len(y)]
	for j, bj := range b {
		y[j] = max(y[j]+bj, 0)
	}
}

func sigmoidBiasGo(y, b []float32) {
	b = b[:len(y)]
	for j, bj := range b {
		y[j] = Sigmoid32(y[j] + bj)
	}
}

func reluGradGo(y, gy, dz []float32) {
	gy, dz = gy[:len(y)], dz[:len(y)]
	for i, v := range y {
		if v > 0 {
			dz[i] = gy[i]
		} else {
			dz[i] = 0
		}
	}
}

func sigmoidGradGo(y, gy, dz []float32) {
	gy, dz = gy[:len(y)], dz[:len(y)]
	for i, v := range y {
		dz[i] = gy[i] * v * (1 - v)
	}
}

func bceGradGo(p, t, d []float32, s, eps float32) {
	t, d = t[:len(p)], d[:len(p)]
	for i, v := range p {
		ti := t[i]
		d[i] = s * (ti/(v+eps) - (1-ti)/(1-v+eps))
	}
}

func addToGo(dst, src []float32) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += v
	}
}

func axpyGo(dst, src []float32, alpha float32) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += alpha * v
	}
}

// dotGo adds Σ a·b to s.
func dotGo(s float32, a, b []float32) float32 {
	b = b[:len(a)]
	for j, v := range a {
		s += v * b[j]
	}
	return s
}

// sqDiffSumGo adds (p-t)² into acc, element i into lane i mod 4.
func sqDiffSumGo(p, t []float32, acc *[4]float64) {
	t = t[:len(p)]
	for i, v := range p {
		d := v - t[i]
		acc[i&3] += float64(d * d)
	}
}
