package dataset

import (
	"fmt"
	"math"
	"slices"
)

// Scaler is a per-feature affine map x' = (x - A) * B, fitted on training
// data and stored in checkpoints as JSON so evaluation applies the same map.
// Kind "none" has empty A and B and leaves data unchanged. Clip > 0 clamps
// every scaled value to [-Clip, Clip]: a test value far outside the
// training range then counts at most Clip units, so one rare column cannot
// dominate a sample's score (Invert cannot undo a clamp).
type Scaler struct {
	Kind string    `json:"kind"`
	A    []float32 `json:"a"`
	B    []float32 `json:"b"`
	Clip float32   `json:"clip,omitempty"`
}

// ScalerKinds lists the kinds FitScaler accepts.
func ScalerKinds() []string { return []string{"minmax", "standard", "robust", "global", "none"} }

// NearConstant is the relative spread below which FitScaler treats a
// column as constant: a column whose range (minmax), standard deviation
// (standard) or interquartile range (robust) is at most NearConstant times
// its magnitude (largest absolute value) is shifted but not divided (B=1).
// Dividing by such a spread, often float rounding or a single odd training
// row, would turn ordinary test values into scaled values of hundreds.
const NearConstant = 1e-3

// FitScaler fits a scaler on d:
//   - "minmax" maps each feature's training range onto [0,1];
//   - "standard" gives each feature zero mean and unit (population) variance;
//   - "robust" subtracts each feature's median and divides by its
//     interquartile range (by 1.349 standard deviations when the IQR is 0,
//     as in a column that is mostly zeros), so outliers in the training data
//     barely move it;
//   - "global" maps the range of all values together onto [0,1] with one
//     offset and one divisor, for pixel-like tables whose columns share a
//     unit;
//   - "none" is the identity.
//
// A constant or near-constant feature (see NearConstant) gets B=1, so it is
// only shifted instead of divided by (almost) zero.
func FitScaler(kind string, d *Dataset) (*Scaler, error) {
	switch kind {
	case "none":
		return &Scaler{Kind: "none"}, nil
	case "minmax", "standard", "robust", "global":
	default:
		return nil, fmt.Errorf("scaler: unknown kind %q; use one of %q", kind, ScalerKinds())
	}
	if d == nil || d.N == 0 {
		return nil, fmt.Errorf("scaler %s: cannot fit on an empty dataset", kind)
	}
	dim := d.Dim()
	if len(d.X) != d.N*dim {
		return nil, fmt.Errorf("scaler %s: dataset %q: len(X)=%d, want N*dim=%d", kind, d.Name, len(d.X), d.N*dim)
	}
	s := &Scaler{Kind: kind, A: make([]float32, dim), B: make([]float32, dim)}
	lo, hi := columnRange(d)
	switch kind {
	case "minmax":
		for j := range dim {
			s.A[j] = lo[j]
			s.B[j] = divisor(float64(hi[j])-float64(lo[j]), lo[j], hi[j])
		}
	case "global":
		l, h := slices.Min(lo), slices.Max(hi)
		for j := range dim {
			s.A[j] = l
			s.B[j] = divisor(float64(h)-float64(l), l, h)
		}
	case "standard":
		mean, sd := columnMoments(d)
		for j := range dim {
			s.A[j] = float32(mean[j])
			s.B[j] = divisor(sd[j], lo[j], hi[j])
		}
	case "robust":
		_, sd := columnMoments(d)
		col := make([]float64, d.N)
		for j := range dim {
			for i := range d.N {
				col[i] = float64(d.X[i*dim+j])
			}
			slices.Sort(col)
			q1, med, q3 := quantile(col, 0.25), quantile(col, 0.5), quantile(col, 0.75)
			spread := q3 - q1
			if spread <= NearConstant*magnitude(lo[j], hi[j]) {
				spread = 1.349 * sd[j] // the IQR of a normal distribution
			}
			s.A[j] = float32(med)
			s.B[j] = divisor(spread, lo[j], hi[j])
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("scaler %s fitted on dataset %q: %w (check the data with Validate)", kind, d.Name, err)
	}
	return s, nil
}

// divisor is B for a column of range [lo, hi] and the given spread: 1/spread,
// or 1 for a (near-)constant column.
func divisor(spread float64, lo, hi float32) float32 {
	if spread <= NearConstant*magnitude(lo, hi) || spread == 0 {
		return 1
	}
	return float32(1 / spread)
}

func magnitude(lo, hi float32) float64 {
	return max(math.Abs(float64(lo)), math.Abs(float64(hi)))
}

// columnRange is each feature's smallest and largest value.
func columnRange(d *Dataset) (lo, hi []float32) {
	dim := d.Dim()
	lo = slices.Clone(d.X[:dim])
	hi = slices.Clone(d.X[:dim])
	for i := 1; i < d.N; i++ {
		for j, v := range d.X[i*dim : (i+1)*dim] {
			lo[j] = min(lo[j], v)
			hi[j] = max(hi[j], v)
		}
	}
	return lo, hi
}

// columnMoments is each feature's mean and population standard deviation,
// in two float64 passes (accurate enough without Welford's bookkeeping).
func columnMoments(d *Dataset) (mean, sd []float64) {
	dim := d.Dim()
	mean = make([]float64, dim)
	for i := 0; i < d.N; i++ {
		for j, v := range d.X[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(d.N)
	}
	sd = make([]float64, dim)
	for i := 0; i < d.N; i++ {
		for j, v := range d.X[i*dim : (i+1)*dim] {
			dv := float64(v) - mean[j]
			sd[j] += dv * dv
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(d.N))
	}
	return mean, sd
}

// quantile is the q-quantile of sorted values, interpolating linearly
// between order statistics (NumPy's default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// AutoScale is the scaling "auto" picks for d, which it reads before any
// scaling, and a short reason to show the user:
//   - pictures (C or H above 1) already in [0,1]: none;
//   - pictures with other values: global (one divisor keeps pixels comparable);
//   - pixel-like tables (64 or more columns, every value an integer in
//     [0,255]): global, for the same reason;
//   - other tables: minmax, each column onto [0,1] by its training range.
func AutoScale(d *Dataset) (kind, reason string) {
	image := d.C > 1 || d.H > 1
	switch {
	case image && InUnitRange(d):
		return "none", "pictures already in [0,1]"
	case image:
		return "global", "pictures outside [0,1]: one offset and divisor for all pixels"
	case d.W >= 64 && pixelLike(d):
		return "global", fmt.Sprintf("a pixel-like table (%d columns of integers in [0,255]): one offset and divisor for all columns", d.W)
	}
	return "minmax", "a table: each column mapped onto [0,1] by its training range"
}

// InUnitRange reports whether every value of d lies in [0,1].
func InUnitRange(d *Dataset) bool {
	for _, v := range d.X {
		if v < 0 || v > 1 {
			return false
		}
	}
	return true
}

func pixelLike(d *Dataset) bool {
	for _, v := range d.X {
		if v < 0 || v > 255 || v != float32(math.Trunc(float64(v))) {
			return false
		}
	}
	return true
}

// Validate checks a scaler, e.g. one read back from a checkpoint.
func (s *Scaler) Validate() error {
	if s == nil {
		return fmt.Errorf("scaler: nil")
	}
	switch s.Kind {
	case "none":
		if len(s.A) != 0 || len(s.B) != 0 {
			return fmt.Errorf("scaler none: has %d/%d parameters, want none", len(s.A), len(s.B))
		}
		return nil
	case "minmax", "standard", "robust", "global":
	default:
		return fmt.Errorf("scaler: unknown kind %q; want one of %q", s.Kind, ScalerKinds())
	}
	if c := float64(s.Clip); math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
		return fmt.Errorf("scaler %s: clip %v must be zero (off) or a positive number", s.Kind, s.Clip)
	}
	if len(s.A) != len(s.B) || len(s.A) == 0 {
		return fmt.Errorf("scaler %s: len(a)=%d, len(b)=%d; want equal and non-zero", s.Kind, len(s.A), len(s.B))
	}
	for j := range s.A {
		a, b := float64(s.A[j]), float64(s.B[j])
		if math.IsNaN(a) || math.IsInf(a, 0) || math.IsNaN(b) || math.IsInf(b, 0) || b == 0 {
			return fmt.Errorf("scaler %s: feature %d: a=%v b=%v; want finite a and finite non-zero b", s.Kind, j, s.A[j], s.B[j])
		}
	}
	return nil
}

func (s *Scaler) check(name string, dim int) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Kind != "none" && len(s.A) != dim {
		return fmt.Errorf("scaler %s has %d features but dataset %q has %d per sample; was it fitted on different data?", s.Kind, len(s.A), name, dim)
	}
	return nil
}

// Apply scales d in place.
func (s *Scaler) Apply(d *Dataset) error {
	if err := s.check(d.Name, d.Dim()); err != nil {
		return err
	}
	return s.ApplySlice(d.X)
}

// Invert undoes Apply in place: x = x'/B + A.
func (s *Scaler) Invert(d *Dataset) error {
	if err := s.check(d.Name, d.Dim()); err != nil {
		return err
	}
	return s.InvertSlice(d.X)
}

// ApplySlice scales a flat batch of samples in place; len(x) must be a
// multiple of the feature count.
func (s *Scaler) ApplySlice(x []float32) error {
	if err := s.sliceCheck(len(x)); err != nil {
		return err
	}
	if s.Kind == "none" {
		return nil
	}
	dim := len(s.A)
	for i := range x {
		j := i % dim
		x[i] = (x[i] - s.A[j]) * s.B[j]
	}
	if c := s.Clip; c > 0 {
		for i, v := range x {
			x[i] = min(max(v, -c), c)
		}
	}
	return nil
}

// InvertSlice undoes ApplySlice in place, e.g. to turn reconstructions back
// into data units.
func (s *Scaler) InvertSlice(x []float32) error {
	if err := s.sliceCheck(len(x)); err != nil {
		return err
	}
	if s.Kind == "none" {
		return nil
	}
	dim := len(s.A)
	for i := range x {
		j := i % dim
		x[i] = x[i]/s.B[j] + s.A[j]
	}
	return nil
}

func (s *Scaler) sliceCheck(n int) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Kind != "none" && n%len(s.A) != 0 {
		return fmt.Errorf("scaler %s: %d values is not a multiple of its %d features", s.Kind, n, len(s.A))
	}
	return nil
}
