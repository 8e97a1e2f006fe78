package eval

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMSEAndBCE(t *testing.T) {
	assert.InDelta(t, 0.0, MSE([]float32{1, 2}, []float32{1, 2}), 0)
	// ((1)^2 + (2)^2 + 0) / 3
	assert.InDelta(t, 5.0/3, MSE([]float32{0, 0, 5}, []float32{1, -2, 5}), 1e-12)
	assert.True(t, math.IsNaN(MSE([]float32{1}, []float32{1, 2})))
	assert.True(t, math.IsNaN(MSE(nil, nil)))

	// -(ln 0.9 + ln 0.8) / 2
	assert.InDelta(t, -(math.Log(0.9)+math.Log(0.8))/2, BCE([]float32{1, 0}, []float32{0.9, 0.2}), 1e-7)
	// Soft target 0.5 with pred 0.5: ln 2.
	assert.InDelta(t, math.Ln2, BCE([]float32{0.5}, []float32{0.5}), 1e-12)
	// Clamping keeps the loss finite: -ln(1e-7) for a confident miss.
	assert.InDelta(t, -math.Log(1e-7), BCE([]float32{1}, []float32{0}), 1e-9)
	assert.InDelta(t, -math.Log(1e-7), BCE([]float32{0}, []float32{1}), 1e-6)
	assert.True(t, math.IsNaN(BCE([]float32{1}, nil)))
}

func TestPSNR(t *testing.T) {
	a := []float32{0, 0, 0, 0}
	b := []float32{0.1, -0.1, 0.1, -0.1} // MSE 0.01 -> 20 dB at max 1
	assert.InDelta(t, 20.0, PSNR(a, b, 1), 1e-5)
	// max 255 and MSE 0.01*255^2 gives the same 20 dB.
	a255 := []float32{0, 0}
	b255 := []float32{25.5, 25.5}
	assert.InDelta(t, 20.0, PSNR(a255, b255, 255), 1e-5)
	assert.Equal(t, PSNRCap, PSNR(a, a, 1), "identical images hit the cap")
	assert.Equal(t, PSNRCap, PSNR([]float32{0}, []float32{1e-30}, 1), "huge PSNR is capped")
	assert.True(t, math.IsNaN(PSNR(a, b, 0)))
	assert.True(t, math.IsNaN(PSNR(a, b[:3], 1)))

	// Two images: 20 dB and 40 dB (MSE 1e-4) -> mean 30.
	x := []float32{0, 0, 0, 0}
	y := []float32{0.1, 0.1, 0.01, -0.01}
	assert.InDelta(t, 30.0, MeanPSNR(x, y, 2, 1), 1e-4)
	assert.True(t, math.IsNaN(MeanPSNR(x, y, 3, 1)))
	assert.True(t, math.IsNaN(MeanPSNR(x, y, 0, 1)))
}

// ssimPair builds the image pair whose SSIM was computed independently with
// numpy (brute-force 7x7 windows, ddof=1): 0.9759692485267588.
func ssimPair() (a, b []float32, h, w int) {
	h, w = 10, 9
	for i := range h {
		for j := range w {
			a64 := float64((i*7+j*3)%11) / 10
			a = append(a, float32(a64))
			b = append(b, float32(min(max(a64+0.1*math.Sin(float64(i+j)), 0), 1)))
		}
	}
	return a, b, h, w
}

func TestSSIM(t *testing.T) {
	a, b, h, w := ssimPair()
	assert.InDelta(t, 0.9759692485267588, SSIM(a, b, h, w), 1e-7)
	assert.InDelta(t, 1.0, SSIM(a, a, h, w), 1e-12)
	assert.InDelta(t, SSIM(a, b, h, w), SSIM(b, a, h, w), 1e-12, "symmetric")

	// Constant images: variances vanish, SSIM = (2*.5*.6+C1)/(.25+.36+C1).
	c1 := make([]float32, 64)
	c2 := make([]float32, 64)
	for i := range c1 {
		c1[i], c2[i] = 0.5, 0.6
	}
	assert.InDelta(t, (2*0.5*0.6+1e-4)/(0.25+0.36+1e-4), SSIM(c1, c2, 8, 8), 1e-6)

	// A constant brightness shift keeps structure but lowers SSIM; noise
	// lowers it more.
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]float32, 28*28)
	shift := make([]float32, len(img))
	noisy := make([]float32, len(img))
	for i := range img {
		img[i] = 0.2 + 0.5*rng.Float32()
		shift[i] = img[i] + 0.2
		noisy[i] = img[i] + 0.2*(rng.Float32()-0.5)
	}
	sShift := SSIM(img, shift, 28, 28)
	assert.Less(t, sShift, 1.0)
	assert.Greater(t, sShift, 0.8)
	assert.Less(t, SSIM(img, noisy, 28, 28), sShift)

	assert.True(t, math.IsNaN(SSIM(a[:36], b[:36], 6, 6)), "smaller than the 7x7 window")
	assert.True(t, math.IsNaN(SSIM(a, b, 9, 9)), "size mismatch")
}

func TestMeanSSIM(t *testing.T) {
	a, b, h, w := ssimPair()
	want := 0.9759692485267588
	// Image 1: channels (a,b) and (a,a) -> (want+1)/2; image 2: (a,a),(a,a) -> 1.
	var x, y []float32
	x = append(append(append(append(x, a...), a...), a...), a...)
	y = append(append(append(append(y, b...), a...), a...), a...)
	assert.InDelta(t, ((want+1)/2+1)/2, MeanSSIM(x, y, 2, h, w), 1e-7)
	assert.InDelta(t, (want+3)/4, MeanSSIM(x, y, 1, h, w), 1e-7)
	assert.True(t, math.IsNaN(MeanSSIM(x, y, 3, h, w)))
	assert.True(t, math.IsNaN(MeanSSIM(x, y[:10], 1, h, w)))
}

func TestAUROCAndAUPRC(t *testing.T) {
	cases := []struct {
		name     string
		scores   []float64
		positive []bool
		auroc    float64
		ap       float64
	}{
		// sklearn docs example: roc_auc_score = 0.75, average_precision_score = 0.8333.
		{"sklearn docs", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75, 5.0 / 6},
		// Tie between a positive and a negative counts one half:
		// pairs (0.5,0.5)=.5 (0.5,0.2)=1 (0.9,0.5)=1 (0.9,0.2)=1 -> 3.5/4.
		// AP: thresholds 0.9 (R=.5,P=1), 0.5 (R=1,P=2/3) -> .5 + .5*2/3.
		{"ties", []float64{0.5, 0.5, 0.2, 0.9}, []bool{false, true, false, true}, 0.875, 0.5 + 1.0/3},
		{"perfect", []float64{3, 2, 1, 0}, []bool{true, true, false, false}, 1, 1},
		// The only positive ranks last: recall reaches 1 at precision 1/3.
		{"worst", []float64{0, 1, 2}, []bool{true, false, false}, 0, 1.0 / 3},
		// All scores equal: AUROC 0.5, AP = prevalence.
		{"constant", []float64{1, 1, 1, 1}, []bool{true, false, false, false}, 0.5, 0.25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auc, err := AUROC(c.scores, c.positive)
			require.NoError(t, err)
			assert.InDelta(t, c.auroc, auc, 1e-12)
			ap, err := AUPRC(c.scores, c.positive)
			require.NoError(t, err)
			assert.InDelta(t, c.ap, ap, 1e-12)
		})
	}
}

func TestBinaryMetricErrors(t *testing.T) {
	cases := map[string]struct {
		scores   []float64
		positive []bool
		want     string
	}{
		"one class":  {[]float64{1, 2}, []bool{true, true}, "need both classes"},
		"negatives":  {[]float64{1, 2}, []bool{false, false}, "need both classes"},
		"empty":      {nil, nil, "need both classes"},
		"length":     {[]float64{1, 2}, []bool{true}, "2 scores but 1 labels"},
		"nan scores": {[]float64{1, math.NaN()}, []bool{true, false}, "score 1 is NaN"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := AUROC(c.scores, c.positive)
			require.ErrorContains(t, err, c.want)
			_, err = AUPRC(c.scores, c.positive)
			require.ErrorContains(t, err, c.want)
			_, _, err = ROCCurve(c.scores, c.positive)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestROCCurve(t *testing.T) {
	fpr, tpr, err := ROCCurve([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true})
	require.NoError(t, err)
	// sklearn roc_curve gives the same points for this example.
	assert.Equal(t, []float64{0, 0, 0.5, 0.5, 1}, fpr)
	assert.Equal(t, []float64{0, 0.5, 0.5, 1, 1}, tpr)

	fpr, tpr, err = ROCCurve([]float64{0.5, 0.5, 0.2, 0.9}, []bool{false, true, false, true})
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 0.5, 1}, fpr)
	assert.Equal(t, []float64{0, 0.5, 1, 1}, tpr)
}

// TestAUROCMatchesTrapezoid checks the Mann-Whitney AUROC against the
// trapezoidal area under ROCCurve on random data with many ties.
func TestAUROCMatchesTrapezoid(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		n := 50 + rng.IntN(200)
		scores := make([]float64, n)
		pos := make([]bool, n)
		for i := range scores {
			pos[i] = rng.IntN(3) == 0
			scores[i] = float64(rng.IntN(20))
			if pos[i] {
				scores[i] += 3
			}
		}
		pos[0], pos[1] = true, false
		auc, err := AUROC(scores, pos)
		require.NoError(t, err)
		fpr, tpr, err := ROCCurve(scores, pos)
		require.NoError(t, err)
		var area float64
		for i := 1; i < len(fpr); i++ {
			area += (fpr[i] - fpr[i-1]) * (tpr[i] + tpr[i-1]) / 2
		}
		assert.InDelta(t, area, auc, 1e-12)
		assert.True(t, sort.Float64sAreSorted(fpr) && sort.Float64sAreSorted(tpr))
		assert.Equal(t, 1.0, fpr[len(fpr)-1])
		assert.Equal(t, 1.0, tpr[len(tpr)-1])
	}
}

func TestPercentile(t *testing.T) {
	// Expected values from numpy.percentile (default linear method).
	cases := []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{1, 2, 3, 4}, 25, 1.75},
		{[]float64{1, 2, 3, 4}, 50, 2.5},
		{[]float64{1, 2, 3, 4}, 90, 3.7},
		{[]float64{1, 2, 3, 4}, 100, 4},
		{[]float64{3, 1, 2}, 10, 1.2},
		{[]float64{3, 1, 2}, 50, 2},
		{[]float64{5, -1, 2.5, 8, 0}, 33.3, 0.83},
		{[]float64{5, -1, 2.5, 8, 0}, 66.6, 4.16},
		{[]float64{5, -1, 2.5, 8, 0}, 99, 7.88},
		{[]float64{7}, 37, 7},
	}
	for _, c := range cases {
		in := append([]float64(nil), c.xs...)
		got, err := Percentile(c.xs, c.p)
		require.NoError(t, err)
		assert.InDelta(t, c.want, got, 1e-12, "percentile(%v, %v)", c.xs, c.p)
		assert.Equal(t, in, c.xs, "input must not be reordered")
	}
	for _, p := range []float64{-0.5, 100.01, math.NaN(), math.Inf(1)} {
		_, err := Percentile([]float64{1, 2}, p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "outside [0, 100]")
	}
	_, err := Percentile([]float64{1, 2}, 150)
	assert.ErrorContains(t, err, "percentile 150 ")
	_, err = Percentile(nil, 50)
	assert.ErrorContains(t, err, "empty")
	_, err = Percentile([]float64{1, math.NaN()}, 50)
	assert.ErrorContains(t, err, "NaN")
}

func TestThresholdFromContamination(t *testing.T) {
	scores := make([]float64, 20)
	for i := range scores {
		scores[i] = float64(19 - i)
	}
	// numpy.percentile(arange(20), 90) = 17.1, (.., 95) = 18.05
	th, err := ThresholdFromContamination(scores, 0.1)
	require.NoError(t, err)
	assert.InDelta(t, 17.1, th, 1e-12)
	flagged := 0
	for _, s := range scores {
		if s > th {
			flagged++
		}
	}
	assert.Equal(t, 2, flagged, "10% of 20 scores lie above the threshold")
	th, err = ThresholdFromContamination(scores, 0.05)
	require.NoError(t, err)
	assert.InDelta(t, 18.05, th, 1e-12)
	_, err = ThresholdFromContamination(scores, 0.5)
	require.NoError(t, err)

	for _, r := range []float64{0, -0.1, 0.51, 1, math.NaN()} {
		_, err := ThresholdFromContamination(scores, r)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "(0, 0.5]")
	}
	_, err = ThresholdFromContamination(nil, 0.1)
	assert.ErrorContains(t, err, "empty")
}
