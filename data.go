package hourglass

import (
	"fmt"

	"github.com/hourglass-ml/hourglass/dataset"
)

// Dataset is n samples of C×H×W float32 values with optional labels
// (tables are 1×1×features).
type Dataset = dataset.Dataset

// LoadData loads a named source — "sample" (the embedded Fashion-MNIST
// subset), "fashion-mnist", "mnist", a directory of IDX files or a .csv
// file — as its training and test parts; test is nil when the source has
// none (a CSV file).
func LoadData(source string) (train, test *Dataset, err error) {
	s, err := dataset.Load(source)
	if err != nil {
		return nil, nil, err
	}
	return s.Train, s.Test, nil
}

// NewDataset wraps x, samples of the given shape (features, or C, H, W)
// laid out one after another, as a Dataset named name. x is used, not
// copied.
func NewDataset(name string, x []float32, shape ...int) (*Dataset, error) {
	c, h, w := 1, 1, 0
	switch len(shape) {
	case 1:
		w = shape[0]
	case 3:
		c, h, w = shape[0], shape[1], shape[2]
	default:
		return nil, fmt.Errorf("dataset %s: shape %v: give the number of features, or C, H, W", name, shape)
	}
	dim := c * h * w
	if c <= 0 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("dataset %s: shape %v must be positive", name, shape)
	}
	if len(x) == 0 || len(x)%dim != 0 {
		return nil, fmt.Errorf("dataset %s: %d values are not a positive number of samples of %d values (shape %v)", name, len(x), dim, shape)
	}
	d := &Dataset{Name: name, X: x, N: len(x) / dim, C: c, H: h, W: w}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	return d, nil
}
