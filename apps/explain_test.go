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

func TestFeatureSummary(t *testing.T) {
	// Squared errors: row 0 (flagged) 0, 9, 1; row 1 4, 4, 0. Means over
	// both rows 2, 6.5, 0.5 (total 9); over the flagged row 0, 9, 1.
	x := []float32{1, 2, 3, 0, 0, 0}
	recon := []float32{1, 5, 2, 2, -2, 0}
	got := featureSummary(x, recon, 3, []bool{true, false}, []string{"a", "b"})
	require.Len(t, got, 3)
	assert.Equal(t, []string{"b", "a", "f2"}, []string{got[0].Feature, got[1].Feature, got[2].Feature}, "largest error first; unnamed columns as f<j>")
	assert.InDeltaSlice(t, []float64{6.5, 2, 0.5}, []float64{got[0].MSE, got[1].MSE, got[2].MSE}, 1e-12)
	assert.InDeltaSlice(t, []float64{6.5 / 9, 2.0 / 9, 0.5 / 9}, []float64{got[0].Share, got[1].Share, got[2].Share}, 1e-12)
	require.NotNil(t, got[0].FlaggedMSE)
	assert.InDeltaSlice(t, []float64{9, 0, 1}, []float64{*got[0].FlaggedMSE, *got[1].FlaggedMSE, *got[2].FlaggedMSE}, 1e-12)

	none := featureSummary(x, recon, 3, []bool{false, false}, nil)
	assert.Nil(t, none[0].FlaggedMSE, "no flagged rows: no flagged error")

	table := featureTable(got)
	assert.Equal(t, []string{"b", "6.5", "72.2%", "9"}, table.Rows[0])
	assert.Equal(t, "–", featureTable(none).Rows[0][3])
}

func TestScoreHistogram(t *testing.T) {
	scores := []float64{0.1, 0.2, 0.2, 0.5, 3}
	h, err := scoreHistogram(scores, 4, nil)
	require.NoError(t, err)
	require.Len(t, h.Edges, histogramBins+1)
	assert.InDelta(t, 0.1, h.Edges[0], 1e-12)
	assert.InDelta(t, 4, h.Edges[histogramBins], 1e-12, "the range reaches the threshold")
	total := 0
	for _, c := range h.Counts {
		total += c
	}
	assert.Equal(t, len(scores), total)
	assert.Equal(t, 3, h.Counts[0], "0.1, 0.2 and 0.2 share the first bin of width 0.13")
	assert.Nil(t, h.Normal)

	h, err = scoreHistogram(scores, 1, []bool{false, false, false, true, true})
	require.NoError(t, err)
	for b := range h.Counts {
		assert.Equal(t, h.Counts[b], h.Normal[b]+h.Anomalous[b], "bin %d", b)
	}
	assert.Equal(t, 1, h.Anomalous[histogramBins-1], "the score of 3 is in the last bin")
}
