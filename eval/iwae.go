package eval

import "math"

// log2Pi is log(2π), the constant of a Gaussian log-density.
const log2Pi = 1.8378770664093453

// LogMeanExp is log((1/k) Σ exp(v_i)), computed without overflow: the
// importance-weighted bound log p̂_k(x) of k log-weights.
func LogMeanExp(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s/float64(len(v)))
}

// BernoulliLogLik is Σ_j t_j·log(p_j+ε) + (1−t_j)·log(1−p_j+ε): the
// log-likelihood of targets t in [0,1] under the decoder's outputs p, the
// negative of the VAE's summed BCE reconstruction term.
func BernoulliLogLik(t, p []float32) float64 {
	var s float64
	for j, tj := range t {
		tv, pv := float64(tj), float64(p[j])
		s += tv*math.Log(pv+bceEps) + (1-tv)*math.Log(1-pv+bceEps)
	}
	return s
}

// NegSSE is −Σ_j (p_j − t_j)², the negative of the summed squared error a
// VAE with -recon-loss mse is trained on (a Gaussian log-likelihood up to
// its constant and scale).
func NegSSE(t, p []float32) float64 {
	var s float64
	for j, tj := range t {
		d := float64(p[j]) - float64(tj)
		s -= d * d
	}
	return s
}

// LogImportanceWeight is log p(z) − log q(z|x) for one draw
// z = μ + exp(log σ²/2)·ε of a diagonal Gaussian posterior under the
// standard normal prior; add log p(x|z) for the full log-weight. It takes ε
// and log σ² (not z) because log q only needs those: −½ Σ (ε² + log σ² + log 2π).
func LogImportanceWeight(z, eps, logvar []float32) float64 {
	var s float64
	for j, zj := range z {
		zv, ev := float64(zj), float64(eps[j])
		// log N(z; 0, I) − log N(z; μ, σ²)
		s += -0.5*(zv*zv+log2Pi) + 0.5*(ev*ev+float64(logvar[j])+log2Pi)
	}
	return s
}
