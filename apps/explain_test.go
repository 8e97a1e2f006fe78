package apps

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
)

func TestTopFeatures(t *testing.T) {
	// Row 0 errors² 0, 9, 1 (total 10); row 1 errors² 4, 4, 0: a tie keeps
	// the lower index first.
	x := []float32{1, 2, 3, 0, 0, 0}
	recon := []float32{1, 5, 2, 2, -2, 0}
	top := topFeatures(x, recon, 3, 2)
	require.Len(t, top, 2)
	assert.Equal(t, []featureContribution{{1, 0.9}, {2, 0.1}}, top[0])
	assert.Equal(t, []featureContribution{{0, 0.5}, {1, 0.5}}, top[1])
	assert.Nil(t, topFeatures(x, recon, 3, 0))
	assert.Len(t, topFeatures(x, recon, 3, 9)[0], 3, "k is capped at the width")
	assert.InDeltaSlice(t, []float64{2, 6.5, 0.5}, featureErrors(x, recon, 3), 1e-12)
}

func TestGroundTruth(t *testing.T) {
	d := &dataset.Dataset{Name: "d", N: 5, Labels: []int{0, 1, 0, 0, 1}}
	one, seven := 1, 7
	for _, tc := range []struct {
		name string
		opt  AnomalyOptions
		want []bool
		err  string
	}{
		{"normal class", AnomalyOptions{NormalClass: 0}, []bool{false, true, false, false, true}, ""},
		{"anomaly label", AnomalyOptions{NormalClass: -1, AnomalyLabel: &one}, []bool{false, true, false, false, true}, ""},
		{"absent anomaly label: all normal", AnomalyOptions{NormalClass: -1, AnomalyLabel: &seven}, nil, "data row 2 of d has label 1, but the labels should be 7 (anomaly) or 0 (normal"},
		{"absent normal class", AnomalyOptions{NormalClass: 3}, nil, "-normal-class 3: no sample of d has that label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opt.GroundTruth(d)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := AnomalyOptions{NormalClass: 0}.GroundTruth(&dataset.Dataset{Name: "plain", N: 2})
	assert.ErrorContains(t, err, "-normal-class 0 needs labels, but plain has none")
	assert.ErrorContains(t, AnomalyOptions{NormalClass: 0, AnomalyLabel: &one}.Check(), "give one")
}
