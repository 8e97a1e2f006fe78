package eval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// pcaBlockRows is how many rows are processed at a time: it bounds the extra
// memory (rows×D) while giving gemm enough work per call.
const pcaBlockRows = 2048

// PCA is a linear baseline: the k leading principal axes of the training data.
// Components holds one unit-length axis per row (k×D), ordered by decreasing
// explained variance.
type PCA struct {
	Mean       []float64  // per-feature mean, length D
	Components *mat.Dense // k×D, orthonormal rows
	K, D       int
	// ExplainedVariance is the variance of the data along each component
	// (eigenvalues of the covariance, descending, length K).
	ExplainedVariance []float64
	// TotalVariance is the trace of the covariance matrix (sum over all D
	// eigenvalues), so ExplainedVariance[i]/TotalVariance is the ratio.
	TotalVariance float64
}

// FitPCA fits a PCA with k components on n rows of d float32 features.
//
// It builds the D×D covariance with blocked gemm and runs a symmetric
// eigendecomposition, which is far cheaper than an SVD of the n×D data
// matrix when n ≫ D (e.g. 60000×784).
func FitPCA(x []float32, n, d, k int) (*PCA, error) {
	if n < 1 || d < 1 {
		return nil, fmt.Errorf("eval: FitPCA: need n>=1 rows and d>=1 features, got n=%d d=%d", n, d)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("eval: FitPCA: data has %d values, want n*d = %d*%d = %d", len(x), n, d, n*d)
	}
	if k < 1 || k > min(n, d) {
		return nil, fmt.Errorf("eval: FitPCA: k=%d components out of range, want 1 <= k <= min(n=%d, d=%d)", k, n, d)
	}

	mean := make([]float64, d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}

	// Per block of rows, cov += Bᵀ·B with B the centred rows. B is stored
	// transposed (d×rows) so gonum's gemm runs its NoTrans×Trans (dot product)
	// kernel, the fastest of its layouts; float32 gemm is ~3× faster than
	// float64 here, and block results are summed in float64 so precision only
	// depends on the block length.
	cov := make([]float64, d*d)
	br := min(n, pcaBlockRows)
	bt := make([]float32, d*br)
	blk := blas32.General{Rows: d, Cols: d, Stride: d, Data: make([]float32, d*d)}
	mean32 := make([]float32, d)
	for j, m := range mean {
		mean32[j] = float32(m)
	}
	for start := 0; start < n; start += br {
		rows := min(br, n-start)
		for i := range rows {
			row := x[(start+i)*d : (start+i+1)*d]
			for j, v := range row {
				bt[j*rows+i] = v - mean32[j]
			}
		}
		b := blas32.General{Rows: d, Cols: rows, Stride: rows, Data: bt[:d*rows]}
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, b, b, 0, blk)
		for i, v := range blk.Data {
			cov[i] += float64(v)
		}
	}
	denom := float64(n - 1)
	if n == 1 {
		denom = 1
	}
	sym := mat.NewSymDense(d, nil)
	total := 0.0
	for i := range d {
		for j := i; j < d; j++ {
			// Average the two triangles: gemm rounding can make them differ slightly.
			v := 0.5 * (cov[i*d+j] + cov[j*d+i]) / denom
			sym.SetSym(i, j, v)
		}
		total += sym.At(i, i)
	}

	var eig mat.EigenSym
	if ok := eig.Factorize(sym, true); !ok {
		return nil, fmt.Errorf("eval: FitPCA: eigendecomposition of the %d×%d covariance did not converge (check the data for NaN/Inf)", d, d)
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)

	comps := mat.NewDense(k, d, nil)
	ev := make([]float64, k)
	for i := range k {
		col := d - 1 - i
		ev[i] = math.Max(vals[col], 0)
		// Fix the sign (largest-magnitude entry positive) so results are
		// deterministic across runs and BLAS implementations.
		maxAbs, sign := 0.0, 1.0
		for j := range d {
			if v := vecs.At(j, col); math.Abs(v) > maxAbs {
				maxAbs = math.Abs(v)
				sign = math.Copysign(1, v)
			}
		}
		for j := range d {
			comps.Set(i, j, sign*vecs.At(j, col))
		}
	}
	return &PCA{Mean: mean, Components: comps, K: k, D: d, ExplainedVariance: ev, TotalVariance: total}, nil
}

// ExplainedVarianceRatio returns ExplainedVariance[i]/TotalVariance for each
// component (zeros when the data has no variance).
func (p *PCA) ExplainedVarianceRatio() []float64 {
	r := make([]float64, len(p.ExplainedVariance))
	if p.TotalVariance <= 0 {
		return r
	}
	for i, v := range p.ExplainedVariance {
		r[i] = v / p.TotalVariance
	}
	return r
}

func centerRows(dst []float64, src []float32, mean []float64) {
	d := len(mean)
	for i, v := range src {
		dst[i] = float64(v) - mean[i%d]
	}
}

// Transform projects n rows of D features onto the components, returning n×K
// codes. It returns nil if x holds fewer than n*D values or n < 0.
func (p *PCA) Transform(x []float32, n int) []float32 {
	if n < 0 || len(x) < n*p.D {
		return nil
	}
	d, k := p.D, p.K
	out := make([]float32, n*k)
	comps := p.Components.RawMatrix()
	buf := make([]float64, min(n, pcaBlockRows)*d)
	zbuf := make([]float64, min(n, pcaBlockRows)*k)
	for start := 0; start < n; start += pcaBlockRows {
		rows := min(pcaBlockRows, n-start)
		centerRows(buf[:rows*d], x[start*d:(start+rows)*d], p.Mean)
		b := blas64.General{Rows: rows, Cols: d, Stride: d, Data: buf[:rows*d]}
		z := blas64.General{Rows: rows, Cols: k, Stride: k, Data: zbuf[:rows*k]}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, b, comps, 0, z)
		for i, v := range z.Data {
			out[start*k+i] = float32(v)
		}
	}
	return out
}

// Inverse maps n×K codes back to n×D feature space (mean + codes·Components).
// It returns nil if z holds fewer than n*K values or n < 0.
func (p *PCA) Inverse(z []float32, n int) []float32 {
	if n < 0 || len(z) < n*p.K {
		return nil
	}
	d, k := p.D, p.K
	out := make([]float32, n*d)
	comps := p.Components.RawMatrix()
	zbuf := make([]float64, min(n, pcaBlockRows)*k)
	xbuf := make([]float64, min(n, pcaBlockRows)*d)
	for start := 0; start < n; start += pcaBlockRows {
		rows := min(pcaBlockRows, n-start)
		for i, v := range z[start*k : (start+rows)*k] {
			zbuf[i] = float64(v)
		}
		zm := blas64.General{Rows: rows, Cols: k, Stride: k, Data: zbuf[:rows*k]}
		xm := blas64.General{Rows: rows, Cols: d, Stride: d, Data: xbuf[:rows*d]}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, zm, comps, 0, xm)
		for i, v := range xm.Data {
			out[start*d+i] = float32(v + p.Mean[i%d])
		}
	}
	return out
}

// Reconstruct projects n rows onto the components and back: the PCA
// baseline's reconstruction of x (n×D). It returns nil on a short x.
func (p *PCA) Reconstruct(x []float32, n int) []float32 {
	z := p.Transform(x, n)
	if z == nil {
		return nil
	}
	return p.Inverse(z, n)
}
