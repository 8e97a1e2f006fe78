package eval

import (
	"fmt"
	"math"
)

// SampleMSE is the mean squared error of each of the len(a)/dim samples of a
// against b: the usual per-sample anomaly score of an autoencoder.
func SampleMSE(a, b []float32, dim int) ([]float64, error) {
	if dim <= 0 || len(a) != len(b) || len(a)%dim != 0 {
		return nil, fmt.Errorf("eval: SampleMSE: %d and %d values do not split into samples of %d", len(a), len(b), dim)
	}
	out := make([]float64, len(a)/dim)
	for i := range out {
		out[i] = MSE(a[i*dim:(i+1)*dim], b[i*dim:(i+1)*dim])
	}
	return out, nil
}

// Flag marks the scores strictly above threshold.
func Flag(scores []float64, threshold float64) []bool {
	out := make([]bool, len(scores))
	for i, s := range scores {
		out[i] = s > threshold
	}
	return out
}

// PrecisionRecall compares flags with the true anomalies. With nothing
// flagged, precision is NaN (undefined) rather than a misleading 0 or 1.
func PrecisionRecall(flags, positive []bool) (precision, recall float64, err error) {
	if len(flags) != len(positive) {
		return 0, 0, fmt.Errorf("eval: PrecisionRecall: %d flags but %d labels", len(flags), len(positive))
	}
	var tp, fp, fn int
	for i, f := range flags {
		switch {
		case f && positive[i]:
			tp++
		case f:
			fp++
		case positive[i]:
			fn++
		}
	}
	precision, recall = math.NaN(), math.NaN()
	if tp+fp > 0 {
		precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		recall = float64(tp) / float64(tp+fn)
	}
	return precision, recall, nil
}
