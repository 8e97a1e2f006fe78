package eval

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// PSNRCap is the value PSNR reports for identical inputs (infinite PSNR) and
// the ceiling for every PSNR, so means over images stay finite.
const PSNRCap = 100.0

// bceEps bounds predictions away from 0 and 1 so log never sees 0.
const bceEps = 1e-7

// MSE returns the mean squared difference of a and b, accumulated in float64.
// It returns NaN when the lengths differ or are zero.
func MSE(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	var s float64
	for i, x := range a {
		d := float64(x) - float64(b[i])
		s += d * d
	}
	return s / float64(len(a))
}

// BCE returns the mean binary cross-entropy of pred against target, with
// pred clamped to [1e-7, 1-1e-7]. It returns NaN when the lengths differ or
// are zero.
func BCE(target, pred []float32) float64 {
	if len(target) != len(pred) || len(target) == 0 {
		return math.NaN()
	}
	var s float64
	for i, t := range target {
		p := min(max(float64(pred[i]), bceEps), 1-bceEps)
		tt := float64(t)
		s -= tt*math.Log(p) + (1-tt)*math.Log(1-p)
	}
	return s / float64(len(target))
}

// PSNR returns 10*log10(maxVal²/MSE(a, b)) in dB for one image. Identical
// images (MSE 0, infinite PSNR) return PSNRCap, and larger values are capped
// to it. It returns NaN when the lengths differ or are zero or maxVal <= 0.
func PSNR(a, b []float32, maxVal float64) float64 {
	if !(maxVal > 0) {
		return math.NaN()
	}
	mse := MSE(a, b)
	if math.IsNaN(mse) {
		return mse
	}
	if mse == 0 {
		return PSNRCap
	}
	return min(10*math.Log10(maxVal*maxVal/mse), PSNRCap)
}

// MeanPSNR splits a and b into images of dim elements and returns the mean
// per-image PSNR. It returns NaN when dim <= 0, the lengths differ, are zero
// or are not a multiple of dim.
func MeanPSNR(a, b []float32, dim int, maxVal float64) float64 {
	if dim <= 0 || len(a) != len(b) || len(a) == 0 || len(a)%dim != 0 {
		return math.NaN()
	}
	n := len(a) / dim
	var s float64
	for i := range n {
		s += PSNR(a[i*dim:(i+1)*dim], b[i*dim:(i+1)*dim], maxVal)
	}
	return s / float64(n)
}

// SSIM window: a 7×7 uniform window with sample covariance, matching
// skimage.metrics.structural_similarity defaults (win_size=7,
// gaussian_weights=False, use_sample_covariance=True) with data_range L=1,
// so C1=(0.01L)², C2=(0.03L)². As in skimage, the score is the mean over
// windows that lie fully inside the image.
const (
	ssimWin = 7
	ssimC1  = 0.01 * 0.01
	ssimC2  = 0.03 * 0.03
)

// SSIM returns the structural similarity (Wang et al. 2004) of two
// single-channel h×w row-major images with values in [0, 1]; see ssimWin for
// the window. It returns NaN when the sizes are inconsistent or the image is
// smaller than 7×7.
func SSIM(a, b []float32, h, w int) float64 {
	if h < ssimWin || w < ssimWin || len(a) != h*w || len(b) != h*w {
		return math.NaN()
	}
	// Summed-area tables of x, y, x², y², xy make each window O(1).
	W := w + 1
	tabs := make([]float64, 5*(h+1)*W)
	sx, sy := tabs[:(h+1)*W], tabs[(h+1)*W:2*(h+1)*W]
	sxx, syy, sxy := tabs[2*(h+1)*W:3*(h+1)*W], tabs[3*(h+1)*W:4*(h+1)*W], tabs[4*(h+1)*W:]
	for i := range h {
		var rx, ry, rxx, ryy, rxy float64
		for j := range w {
			x, y := float64(a[i*w+j]), float64(b[i*w+j])
			rx += x
			ry += y
			rxx += x * x
			ryy += y * y
			rxy += x * y
			k, up := (i+1)*W+j+1, i*W+j+1
			sx[k] = sx[up] + rx
			sy[k] = sy[up] + ry
			sxx[k] = sxx[up] + rxx
			syy[k] = syy[up] + ryy
			sxy[k] = sxy[up] + rxy
		}
	}
	box := func(t []float64, i, j int) float64 {
		i2, j2 := i+ssimWin, j+ssimWin
		return t[i2*W+j2] - t[i*W+j2] - t[i2*W+j] + t[i*W+j]
	}
	const np = ssimWin * ssimWin
	const covNorm = float64(np) / float64(np-1)
	var total float64
	count := 0
	for i := 0; i+ssimWin <= h; i++ {
		for j := 0; j+ssimWin <= w; j++ {
			ux, uy := box(sx, i, j)/np, box(sy, i, j)/np
			vx := covNorm * (box(sxx, i, j)/np - ux*ux)
			vy := covNorm * (box(syy, i, j)/np - uy*uy)
			vxy := covNorm * (box(sxy, i, j)/np - ux*uy)
			num := (2*ux*uy + ssimC1) * (2*vxy + ssimC2)
			den := (ux*ux + uy*uy + ssimC1) * (vx + vy + ssimC2)
			total += num / den
			count++
		}
	}
	return total / float64(count)
}

// MeanSSIM returns SSIM for a batch of images stored as N×c×h×w (channel
// planes contiguous): the mean over channels of each image, then over
// images. It returns NaN on inconsistent sizes.
func MeanSSIM(a, b []float32, c, h, w int) float64 {
	dim := c * h * w
	if c <= 0 || h <= 0 || w <= 0 || len(a) != len(b) || len(a) == 0 || len(a)%dim != 0 {
		return math.NaN()
	}
	plane := h * w
	var s float64
	for off := 0; off < len(a); off += plane {
		s += SSIM(a[off:off+plane], b[off:off+plane], h, w)
	}
	// Every image has c planes, so the mean over all planes equals the mean
	// over images of the per-image channel mean.
	return s / float64(len(a)/plane)
}

// checkBinary validates inputs shared by AUROC, AUPRC and ROCCurve and
// returns the number of positives and negatives.
func checkBinary(scores []float64, positive []bool) (pos, neg int, err error) {
	if len(scores) != len(positive) {
		return 0, 0, fmt.Errorf("eval: %d scores but %d labels; pass one label per score", len(scores), len(positive))
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, 0, fmt.Errorf("eval: score %d is NaN; remove or fix it before ranking", i)
		}
		if positive[i] {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return 0, 0, fmt.Errorf("eval: need both classes, got %d positives and %d negatives", pos, neg)
	}
	return pos, neg, nil
}

// descending returns indices of scores sorted from highest to lowest.
func descending(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}

// AUROC returns the area under the ROC curve, with higher scores meaning
// "more positive". It equals the Mann-Whitney probability that a random
// positive outscores a random negative, counting ties as one half — the
// same value as sklearn.metrics.roc_auc_score. It errors when only one class
// is present, lengths differ or a score is NaN.
func AUROC(scores []float64, positive []bool) (float64, error) {
	pos, neg, err := checkBinary(scores, positive)
	if err != nil {
		return 0, fmt.Errorf("AUROC: %w", err)
	}
	// Sum over negatives of positives ranked above (ties count half).
	idx := descending(scores)
	var wins float64
	posAbove := 0
	for i := 0; i < len(idx); {
		j := i
		gp, gn := 0, 0
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if positive[idx[j]] {
				gp++
			} else {
				gn++
			}
		}
		wins += float64(gn) * (float64(posAbove) + 0.5*float64(gp))
		posAbove += gp
		i = j
	}
	return wins / (float64(pos) * float64(neg)), nil
}

// ROCCurve returns the ROC curve as false- and true-positive rates at every
// distinct score threshold, from (0,0) (threshold above every score) to
// (1,1). Tied scores form one point. Unlike sklearn's default it keeps
// collinear intermediate points.
func ROCCurve(scores []float64, positive []bool) (fpr, tpr []float64, err error) {
	pos, neg, err := checkBinary(scores, positive)
	if err != nil {
		return nil, nil, fmt.Errorf("ROCCurve: %w", err)
	}
	idx := descending(scores)
	fpr, tpr = []float64{0}, []float64{0}
	tp, fp := 0, 0
	for i := 0; i < len(idx); {
		j := i
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if positive[idx[j]] {
				tp++
			} else {
				fp++
			}
		}
		fpr = append(fpr, float64(fp)/float64(neg))
		tpr = append(tpr, float64(tp)/float64(pos))
		i = j
	}
	return fpr, tpr, nil
}

// AUPRC returns average precision as sklearn.metrics.average_precision_score
// defines it: sum over distinct thresholds of (R_n - R_{n-1}) * P_n, with
// tied scores forming one threshold. It errors when only one class is
// present, lengths differ or a score is NaN.
func AUPRC(scores []float64, positive []bool) (float64, error) {
	recall, precision, err := PRCurve(scores, positive)
	if err != nil {
		return 0, fmt.Errorf("AUPRC: %w", err)
	}
	// Σ (R_i − R_{i−1})·P_i over the curve's points; PRCurve's leading
	// recall-0 point adds nothing.
	var ap float64
	for i := 1; i < len(recall); i++ {
		ap += (recall[i] - recall[i-1]) * precision[i]
	}
	return ap, nil
}

// Percentile returns the p-th percentile (p in [0, 100]) of xs with linear
// interpolation between closest ranks, as numpy.percentile's default
// ("linear") method. xs is not modified.
func Percentile(xs []float64, p float64) (float64, error) {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return 0, fmt.Errorf("eval: percentile %v is outside [0, 100]", p)
	}
	if len(xs) == 0 {
		return 0, errors.New("eval: percentile of an empty slice; pass at least one value")
	}
	s := make([]float64, len(xs))
	copy(s, xs)
	for i, x := range s {
		if math.IsNaN(x) {
			return 0, fmt.Errorf("eval: percentile input %d is NaN; remove NaNs first", i)
		}
	}
	sort.Float64s(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	frac := pos - float64(lo)
	if frac == 0 {
		return s[lo], nil
	}
	return s[lo] + frac*(s[hi]-s[lo]), nil
}

// ThresholdFromContamination returns the anomaly-score threshold above
// which the top rate fraction of scores lies: the (100*(1-rate))-th
// percentile, as PyOD's contamination parameter. Scores strictly greater
// than the threshold are anomalies. rate must be in (0, 0.5].
func ThresholdFromContamination(scores []float64, rate float64) (float64, error) {
	if !(rate > 0 && rate <= 0.5) {
		return 0, fmt.Errorf("eval: contamination rate %v must be in (0, 0.5]", rate)
	}
	t, err := Percentile(scores, 100*(1-rate))
	if err != nil {
		return 0, fmt.Errorf("threshold from contamination %v: %w", rate, err)
	}
	return t, nil
}

// PRCurve returns the precision-recall curve at every distinct score
// threshold, highest first (tied scores form one point), starting at
// recall 0 with the first point's precision, as sklearn's
// precision_recall_curve read from low recall to high.
func PRCurve(scores []float64, positive []bool) (recall, precision []float64, err error) {
	pos, _, err := checkBinary(scores, positive)
	if err != nil {
		return nil, nil, fmt.Errorf("PRCurve: %w", err)
	}
	idx := descending(scores)
	tp, seen := 0, 0
	for i := 0; i < len(idx); {
		j := i
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if positive[idx[j]] {
				tp++
			}
			seen++
		}
		recall = append(recall, float64(tp)/float64(pos))
		precision = append(precision, float64(tp)/float64(seen))
		i = j
	}
	recall = append([]float64{0}, recall...)
	precision = append([]float64{precision[0]}, precision...)
	return recall, precision, nil
}

// Histogram counts values into bins equal-width bins spanning [lo, hi]
// (the last bin includes hi); edges has bins+1 values. Values outside the
// range go into the first or last bin, so the counts always sum to
// len(values). NaN values are an error.
func Histogram(values []float64, bins int, lo, hi float64) (edges []float64, counts []int, err error) {
	if bins < 1 {
		return nil, nil, fmt.Errorf("eval: histogram of %d bins; want at least 1", bins)
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || hi < lo {
		return nil, nil, fmt.Errorf("eval: histogram range [%g, %g] is not a finite interval", lo, hi)
	}
	if hi == lo {
		// One value repeated: a bin of width 1 around it.
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	edges = make([]float64, bins+1)
	for i := range edges {
		edges[i] = lo + float64(i)*width
	}
	edges[bins] = hi
	counts = make([]int, bins)
	for i, v := range values {
		if math.IsNaN(v) {
			return nil, nil, fmt.Errorf("eval: histogram value %d is NaN", i)
		}
		b := int(math.Floor((v - lo) / width))
		counts[min(max(b, 0), bins-1)]++
	}
	return edges, counts, nil
}
