package dataset

import (
	"fmt"
	"math"
	"slices"
)

// Imputer fills missing values (NaN) feature by feature with values fitted
// on the training data, so that training, evaluation and the Go API fill
// a row the same way. It is stored in checkpoints as JSON beside the
// scaler and applied before it.
type Imputer struct {
	// Kind is how Fill was fitted: "mean" or "median" of the feature's
	// training values that are present, or "zero".
	Kind string    `json:"kind"`
	Fill []float32 `json:"fill"`
}

// ImputeKinds lists the kinds FitImputer accepts.
func ImputeKinds() []string { return []string{"mean", "median", "zero"} }

// FitImputer fits an imputer of the given kind on d's present values. A
// feature with no value at all in d cannot be filled by its mean or
// median: that is an error naming it.
func FitImputer(kind string, d *Dataset) (*Imputer, error) {
	if !slices.Contains(ImputeKinds(), kind) {
		return nil, fmt.Errorf("impute: unknown policy %q; use one of %q", kind, ImputeKinds())
	}
	if d == nil || d.N == 0 {
		return nil, fmt.Errorf("impute %s: cannot fit on an empty dataset", kind)
	}
	dim := d.Dim()
	im := &Imputer{Kind: kind, Fill: make([]float32, dim)}
	if kind == "zero" {
		return im, nil
	}
	col := make([]float64, 0, d.N)
	for j := range dim {
		col = col[:0]
		for i := range d.N {
			if v := d.X[i*dim+j]; !isMissing(v) {
				col = append(col, float64(v))
			}
		}
		if len(col) == 0 {
			return nil, fmt.Errorf("impute %s: %s has no value in any of the %d rows of %s, so there is nothing to fill it from; drop the column", kind, featureName(d, j), d.N, d.Name)
		}
		if kind == "median" {
			slices.Sort(col)
			im.Fill[j] = float32(quantile(col, 0.5))
			continue
		}
		var s float64
		for _, v := range col {
			s += v
		}
		im.Fill[j] = float32(s / float64(len(col)))
	}
	return im, nil
}

func isMissing(v float32) bool { return v != v } // NaN

func featureName(d *Dataset, j int) string {
	if j < len(d.Columns) {
		return fmt.Sprintf("column %q", d.Columns[j])
	}
	return fmt.Sprintf("feature %d", j)
}

// Validate checks an imputer, e.g. one read back from a checkpoint.
func (im *Imputer) Validate() error {
	if im == nil {
		return fmt.Errorf("imputer: nil")
	}
	if !slices.Contains(ImputeKinds(), im.Kind) {
		return fmt.Errorf("imputer: unknown kind %q; want one of %q", im.Kind, ImputeKinds())
	}
	if len(im.Fill) == 0 {
		return fmt.Errorf("imputer %s: no fill values", im.Kind)
	}
	for j, v := range im.Fill {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("imputer %s: feature %d: fill value %v is not finite", im.Kind, j, v)
		}
	}
	return nil
}

// Apply fills d's missing values in place and returns how many it filled.
func (im *Imputer) Apply(d *Dataset) (int, error) {
	if err := im.Validate(); err != nil {
		return 0, err
	}
	if len(im.Fill) != d.Dim() {
		return 0, fmt.Errorf("imputer %s has %d features but dataset %q has %d per sample; was it fitted on different data?", im.Kind, len(im.Fill), d.Name, d.Dim())
	}
	return im.ApplySlice(d.X)
}

// ApplySlice fills the missing values of a flat batch of samples in place
// and returns how many it filled; len(x) must be a multiple of the
// feature count.
func (im *Imputer) ApplySlice(x []float32) (int, error) {
	if err := im.Validate(); err != nil {
		return 0, err
	}
	dim := len(im.Fill)
	if len(x)%dim != 0 {
		return 0, fmt.Errorf("imputer %s: %d values is not a multiple of its %d features", im.Kind, len(x), dim)
	}
	n := 0
	for i, v := range x {
		if isMissing(v) {
			x[i] = im.Fill[i%dim]
			n++
		}
	}
	return n, nil
}

// CountMissing is the number of missing values (NaN) in d.
func CountMissing(d *Dataset) int {
	n := 0
	for _, v := range d.X {
		if isMissing(v) {
			n++
		}
	}
	return n
}
