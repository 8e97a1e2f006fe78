package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GMM is a Gaussian mixture with diagonal covariances: the post-hoc latent
// sampler of an autoencoder (fitted on training codes, as pythae does), whose
// draws decode to images that look like data far more often than draws from
// N(0, I) do.
type GMM struct {
	K, D    int
	Weights []float64   // mixing weights, sum 1
	Means   [][]float64 // K×D
	Vars    [][]float64 // K×D diagonal variances
	// LogLikelihood is the mean log-likelihood per row of the fitted data at
	// the last EM step, in nats.
	LogLikelihood float64
	// Iters is how many EM steps ran.
	Iters int
}

// GMMOptions controls FitGMM.
type GMMOptions struct {
	K     int     // components (10 if 0)
	Iters int     // at most this many EM steps (200 if 0)
	Tol   float64 // stop when the mean log-likelihood gains less (1e-6 if 0)
	// Reg is added to every variance, relative to the data's mean variance,
	// so that a component collapsing on one point keeps a usable width
	// (1e-6 if 0).
	Reg  float64
	Seed uint64
}

// FitGMM fits a diagonal Gaussian mixture to n rows of d features by EM,
// starting from k-means++ seeds drawn with opt.Seed: the same data and seed
// give the same mixture.
func FitGMM(x []float32, n, d int, opt GMMOptions) (*GMM, error) {
	if opt.K == 0 {
		opt.K = 10
	}
	if opt.Iters == 0 {
		opt.Iters = 200
	}
	if opt.Tol == 0 {
		opt.Tol = 1e-6
	}
	if opt.Reg == 0 {
		opt.Reg = 1e-6
	}
	switch {
	case n < 1 || d < 1:
		return nil, fmt.Errorf("eval: FitGMM: need n>=1 rows and d>=1 features, got n=%d d=%d", n, d)
	case len(x) != n*d:
		return nil, fmt.Errorf("eval: FitGMM: data has %d values, want n*d = %d*%d = %d", len(x), n, d, n*d)
	case opt.K < 1 || opt.K > n:
		return nil, fmt.Errorf("eval: FitGMM: %d components for %d rows: want 1 <= K <= rows", opt.K, n)
	case opt.Iters < 0 || !(opt.Tol > 0) || !(opt.Reg > 0):
		return nil, fmt.Errorf("eval: FitGMM: iterations %d, tolerance %g and regularisation %g must be positive", opt.Iters, opt.Tol, opt.Reg)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("eval: FitGMM: value %d (row %d) is %v: codes must be finite", i, i/d, v)
		}
	}
	// The variance floor scales with the data so that codes of any size work.
	mean, variance := make([]float64, d), make([]float64, d)
	for i := range n {
		for j := range d {
			mean[j] += float64(x[i*d+j])
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	var meanVar float64
	for i := range n {
		for j := range d {
			dv := float64(x[i*d+j]) - mean[j]
			variance[j] += dv * dv
		}
	}
	for j := range variance {
		variance[j] /= float64(n)
		meanVar += variance[j] / float64(d)
	}
	floor := opt.Reg * max(meanVar, 1e-12)

	g := &GMM{K: opt.K, D: d, Weights: make([]float64, opt.K), Means: make([][]float64, opt.K), Vars: make([][]float64, opt.K)}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6d6d))
	for c, i := range kmeansPP(x, n, d, opt.K, rng) {
		g.Weights[c] = 1 / float64(opt.K)
		g.Means[c] = make([]float64, d)
		g.Vars[c] = make([]float64, d)
		for j := range d {
			g.Means[c][j] = float64(x[i*d+j])
			g.Vars[c][j] = variance[j] + floor
		}
	}

	resp := make([]float64, n*opt.K)
	prev := math.Inf(-1)
	for it := range opt.Iters {
		ll := g.estep(x, n, resp)
		g.mstep(x, n, resp, floor)
		g.LogLikelihood, g.Iters = ll, it+1
		if ll-prev < opt.Tol*max(1, math.Abs(ll)) {
			break
		}
		prev = ll
	}
	// The likelihood of the returned parameters, not of the step before.
	g.LogLikelihood = g.estep(x, n, resp)
	return g, nil
}

// kmeansPP picks k distinct seed rows: the first uniformly, each next one
// with probability proportional to its squared distance to the nearest seed.
func kmeansPP(x []float32, n, d, k int, rng *rand.Rand) []int {
	seeds := []int{rng.IntN(n)}
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	for len(seeds) < k {
		last := seeds[len(seeds)-1]
		var total float64
		for i := range n {
			var s float64
			for j := range d {
				dv := float64(x[i*d+j] - x[last*d+j])
				s += dv * dv
			}
			dist[i] = min(dist[i], s)
			total += dist[i]
		}
		next := -1
		if total > 0 {
			u := rng.Float64() * total
			for i := range n {
				u -= dist[i]
				if u <= 0 && dist[i] > 0 {
					next = i
					break
				}
			}
		}
		if next < 0 {
			// Every row sits on a seed (fewer distinct rows than k): take
			// any row not chosen yet.
			for i := range n {
				if dist[i] > 0 || !contains(seeds, i) {
					next = i
					break
				}
			}
		}
		seeds = append(seeds, next)
	}
	return seeds
}

func contains(s []int, v int) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// logComponents writes log(w_c · N(row; μ_c, σ²_c)) for every component into
// out and returns their log-sum-exp, log p(row).
func (g *GMM) logComponents(row []float32, out []float64) float64 {
	const log2pi = 1.8378770664093453
	best := math.Inf(-1)
	for c := range g.K {
		s := math.Log(g.Weights[c])
		for j := range g.D {
			dv := float64(row[j]) - g.Means[c][j]
			v := g.Vars[c][j]
			s -= 0.5 * (log2pi + math.Log(v) + dv*dv/v)
		}
		out[c] = s
		best = max(best, s)
	}
	if math.IsInf(best, -1) {
		return best
	}
	var sum float64
	for _, s := range out[:g.K] {
		sum += math.Exp(s - best)
	}
	return best + math.Log(sum)
}

// estep writes the responsibilities (n×K) and returns the mean
// log-likelihood per row.
func (g *GMM) estep(x []float32, n int, resp []float64) float64 {
	var ll float64
	for i := range n {
		r := resp[i*g.K : (i+1)*g.K]
		lse := g.logComponents(x[i*g.D:(i+1)*g.D], r)
		for c := range r {
			r[c] = math.Exp(r[c] - lse)
		}
		ll += lse
	}
	return ll / float64(n)
}

// mstep re-estimates weights, means and variances from the responsibilities.
// A component that lost every row is moved onto the row the mixture
// explains worst, so K stays K.
func (g *GMM) mstep(x []float32, n int, resp []float64, floor float64) {
	d := g.D
	for c := range g.K {
		var nk float64
		mu, v := g.Means[c], g.Vars[c]
		clear(mu)
		clear(v)
		for i := range n {
			nk += resp[i*g.K+c]
		}
		if nk < 1e-10 {
			worst, worstLL := 0, math.Inf(1)
			tmp := make([]float64, g.K)
			for i := range n {
				if l := g.logComponents(x[i*d:(i+1)*d], tmp); l < worstLL {
					worst, worstLL = i, l
				}
			}
			for j := range d {
				mu[j] = float64(x[worst*d+j])
				v[j] = 1
			}
			g.Weights[c] = 1 / float64(n)
			continue
		}
		for i := range n {
			r := resp[i*g.K+c]
			if r == 0 {
				continue
			}
			for j := range d {
				mu[j] += r * float64(x[i*d+j])
			}
		}
		for j := range d {
			mu[j] /= nk
		}
		for i := range n {
			r := resp[i*g.K+c]
			if r == 0 {
				continue
			}
			for j := range d {
				dv := float64(x[i*d+j]) - mu[j]
				v[j] += r * dv * dv
			}
		}
		for j := range d {
			v[j] = v[j]/nk + floor
		}
		g.Weights[c] = nk / float64(n)
	}
	var total float64
	for _, w := range g.Weights {
		total += w
	}
	for c := range g.Weights {
		g.Weights[c] /= total
	}
}

// MeanLogLikelihood is the mean log-density of n rows of x under the
// mixture, in nats per row.
func (g *GMM) MeanLogLikelihood(x []float32, n int) (float64, error) {
	if n < 1 || len(x) != n*g.D {
		return 0, fmt.Errorf("eval: GMM log-likelihood: %d values for %d rows of %d features", len(x), n, g.D)
	}
	tmp := make([]float64, g.K)
	var ll float64
	for i := range n {
		ll += g.logComponents(x[i*g.D:(i+1)*g.D], tmp)
	}
	return ll / float64(n), nil
}

// Sample draws n rows (n×D) from the mixture: a component by its weight,
// then a Gaussian draw around its mean.
func (g *GMM) Sample(n int, rng *rand.Rand) []float32 {
	out := make([]float32, n*g.D)
	for i := range n {
		u, c := rng.Float64(), g.K-1
		for k, w := range g.Weights {
			if u < w {
				c = k
				break
			}
			u -= w
		}
		for j := range g.D {
			out[i*g.D+j] = float32(g.Means[c][j] + math.Sqrt(g.Vars[c][j])*rng.NormFloat64())
		}
	}
	return out
}
