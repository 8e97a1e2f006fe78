package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// FashionMNISTClasses are the Fashion-MNIST label names, indexed by label.
func FashionMNISTClasses() []string {
	return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
}

// MNISTClasses are the MNIST label names "0".."9", indexed by label.
func MNISTClasses() []string {
	return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
}

// Dataset holds N samples, each C×H×W, row-major float32. Tabular data uses
// C=1, H=1, W=features.
type Dataset struct {
	Name       string
	X          []float32 // len N*C*H*W; images are in [0,1]
	Labels     []int     // len N, or nil when unlabelled
	N, C, H, W int
	Classes    []string // optional class names, indexed by label
	// Columns names the features of a table read from a CSV header (nil
	// without one); LabelColumn is the header column the labels came from.
	Columns     []string
	LabelColumn string
}

// Dim is the number of values in one sample (C*H*W).
func (d *Dataset) Dim() int { return d.C * d.H * d.W }

// Sample returns a view (not a copy) of sample i. Its capacity is capped so
// appending to it cannot overwrite sample i+1. i must be in [0, N).
func (d *Dataset) Sample(i int) []float32 {
	dim := d.Dim()
	return d.X[i*dim : (i+1)*dim : (i+1)*dim]
}

// Subset copies the samples at idx (in that order, repeats allowed) into a new
// Dataset. Indices must be in [0, N); an out-of-range index is a programming
// error and panics like slice indexing. Use Select for untrusted indices.
func (d *Dataset) Subset(idx []int) *Dataset {
	dim := d.Dim()
	out := &Dataset{
		Name: d.Name, N: len(idx), C: d.C, H: d.H, W: d.W,
		X:       make([]float32, len(idx)*dim),
		Classes: slices.Clone(d.Classes),
		Columns: slices.Clone(d.Columns), LabelColumn: d.LabelColumn,
	}
	if d.Labels != nil {
		out.Labels = make([]int, len(idx))
	}
	for j, i := range idx {
		copy(out.X[j*dim:(j+1)*dim], d.X[i*dim:(i+1)*dim])
		if d.Labels != nil {
			out.Labels[j] = d.Labels[i]
		}
	}
	return out
}

// Select is Subset with index checking: it returns an error naming the first
// index outside [0, N) instead of panicking.
func (d *Dataset) Select(idx []int) (*Dataset, error) {
	for j, i := range idx {
		if i < 0 || i >= d.N {
			return nil, fmt.Errorf("dataset %q: index %d (position %d) out of range [0,%d)", d.Name, i, j, d.N)
		}
	}
	return d.Subset(idx), nil
}

// Head copies the first n samples (all of them if n >= N, none if n <= 0).
func (d *Dataset) Head(n int) *Dataset {
	n = max(0, min(n, d.N))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx)
}

// Filter copies the samples whose label satisfies keep. Unlabelled datasets
// pass -1 as the label of every sample.
func (d *Dataset) Filter(keep func(label int) bool) *Dataset {
	var idx []int
	for i := 0; i < d.N; i++ {
		l := -1
		if d.Labels != nil {
			l = d.Labels[i]
		}
		if keep(l) {
			idx = append(idx, i)
		}
	}
	return d.Subset(idx)
}

// Split holds out round(valFrac*N) samples, chosen by a shuffle seeded with
// seed, as a validation set; the rest is train. Both parts keep the original
// sample order (shuffling for training is the Batcher's job) and are named
// "<name>/train" and "<name>/val". The same seed always gives the same split.
// valFrac must be in (0,1) and both parts must be non-empty.
func (d *Dataset) Split(valFrac float64, seed uint64) (train, val *Dataset, err error) {
	if math.IsNaN(valFrac) || valFrac <= 0 || valFrac >= 1 {
		return nil, nil, fmt.Errorf("dataset %q: split fraction %v must be in (0,1), e.g. 0.1", d.Name, valFrac)
	}
	nVal := int(math.Round(valFrac * float64(d.N)))
	if nVal < 1 || nVal > d.N-1 {
		return nil, nil, fmt.Errorf("dataset %q: split fraction %v of %d samples leaves an empty train or validation set; use more data or a different fraction", d.Name, valFrac, d.N)
	}
	// A salt keeps the split's shuffle independent of epoch orders from the
	// same seed.
	perm := permutation(d.N, mix(seed^splitSalt, 0))
	valIdx := slices.Clone(perm[:nVal])
	trainIdx := slices.Clone(perm[nVal:])
	slices.Sort(valIdx)
	slices.Sort(trainIdx)
	train, val = d.Subset(trainIdx), d.Subset(valIdx)
	train.Name, val.Name = d.Name+"/train", d.Name+"/val"
	return train, val, nil
}

// Validate checks shape and length consistency, label range and that every
// value is finite. Errors name the dataset and, for bad values, the sample.
func (d *Dataset) Validate() error {
	if d == nil {
		return errors.New("dataset: nil dataset")
	}
	if d.N < 0 || d.C < 1 || d.H < 1 || d.W < 1 {
		return fmt.Errorf("dataset %q: bad shape N=%d C=%d H=%d W=%d: N must be >= 0 and C, H, W >= 1", d.Name, d.N, d.C, d.H, d.W)
	}
	dim := d.Dim()
	if len(d.X) != d.N*dim {
		return fmt.Errorf("dataset %q: len(X)=%d, want N*C*H*W = %d*%d = %d", d.Name, len(d.X), d.N, dim, d.N*dim)
	}
	if d.Labels != nil && len(d.Labels) != d.N {
		return fmt.Errorf("dataset %q: %d labels for %d samples", d.Name, len(d.Labels), d.N)
	}
	for i, l := range d.Labels {
		if l < 0 {
			return fmt.Errorf("dataset %q: sample %d: negative label %d", d.Name, i, l)
		}
		if len(d.Classes) > 0 && l >= len(d.Classes) {
			return fmt.Errorf("dataset %q: sample %d: label %d outside [0,%d) (%d class names)", d.Name, i, l, len(d.Classes), len(d.Classes))
		}
	}
	for j, v := range d.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("dataset %q: sample %d, value %d: %v is not finite", d.Name, j/dim, j%dim, v)
		}
	}
	return nil
}
