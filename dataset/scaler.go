package dataset

import (
	"fmt"
	"math"
)

// Scaler is a per-feature affine map x' = (x - A) * B, fitted on training
// data and stored in checkpoints as JSON so evaluation applies the same map.
// Kind "none" has empty A and B and leaves data unchanged.
type Scaler struct {
	Kind string    `json:"kind"`
	A    []float32 `json:"a"`
	B    []float32 `json:"b"`
}

// ScalerKinds lists the kinds FitScaler accepts.
func ScalerKinds() []string { return []string{"minmax", "standard", "none"} }

// FitScaler fits a scaler on d: "minmax" maps each feature's range onto
// [0,1], "standard" to zero mean and unit variance (population std), "none"
// is the identity. A feature that is constant in d gets B=1, so it is only
// shifted (to 0) instead of divided by zero.
func FitScaler(kind string, d *Dataset) (*Scaler, error) {
	switch kind {
	case "none":
		return &Scaler{Kind: "none"}, nil
	case "minmax", "standard":
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
	if kind == "minmax" {
		lo := make([]float32, dim)
		hi := make([]float32, dim)
		copy(lo, d.X[:dim])
		copy(hi, d.X[:dim])
		for i := 1; i < d.N; i++ {
			for j, v := range d.X[i*dim : (i+1)*dim] {
				lo[j] = min(lo[j], v)
				hi[j] = max(hi[j], v)
			}
		}
		for j := range dim {
			s.A[j] = lo[j]
			s.B[j] = 1
			if r := float64(hi[j]) - float64(lo[j]); r > 0 {
				s.B[j] = float32(1 / r)
			}
		}
	} else {
		// Two passes in float64: accurate enough without Welford's bookkeeping.
		mean := make([]float64, dim)
		for i := 0; i < d.N; i++ {
			for j, v := range d.X[i*dim : (i+1)*dim] {
				mean[j] += float64(v)
			}
		}
		for j := range mean {
			mean[j] /= float64(d.N)
		}
		vari := make([]float64, dim)
		for i := 0; i < d.N; i++ {
			for j, v := range d.X[i*dim : (i+1)*dim] {
				dv := float64(v) - mean[j]
				vari[j] += dv * dv
			}
		}
		for j := range dim {
			s.A[j] = float32(mean[j])
			s.B[j] = 1
			if sd := math.Sqrt(vari[j] / float64(d.N)); sd > 0 {
				s.B[j] = float32(1 / sd)
			}
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("scaler %s fitted on dataset %q: %w (check the data with Validate)", kind, d.Name, err)
	}
	return s, nil
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
	case "minmax", "standard":
	default:
		return fmt.Errorf("scaler: unknown kind %q; want one of %q", s.Kind, ScalerKinds())
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
