package apps

import (
	"fmt"
	"slices"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
)

func sortInts(s []int) { slices.Sort(s) }

// Sample draws images from a model: samples.png shows decodings of codes
// drawn from a Gaussian mixture fitted on the training codes (the post-hoc
// latent sampler, eval.FitGMM, K = SamplerComponents) and, for variational
// kinds, beside them decodings of prior draws z ~ N(0, I);
// interpolation.png shows rows of decodings along the straight line between
// the codes of pairs of test images (the two ends are the reconstructions of
// the pair).
func Sample(m models.Model, train, test *dataset.Dataset, seed uint64, out string) (*Result, error) {
	for _, d := range []*dataset.Dataset{train, test} {
		if err := CheckShape(m, d); err != nil {
			return nil, err
		}
	}
	if !IsImage(test) {
		return nil, fmt.Errorf("task sample draws pictures, but %s holds table rows", test.Name)
	}
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	const nSamples, pairs, steps = 32, 8, 10
	spec := m.Spec()
	r := newResult("sample")
	var groups []eval.GridRow
	if IsVariational(m) {
		rng := rngFor(seed, 0x5a3b1e)
		var imgs []float32
		var err error
		if g, ok := m.(models.Generator); ok {
			imgs, err = g.Sample(nSamples, rng)
		} else {
			z := make([]float32, nSamples*spec.Latent)
			for i := range z {
				z[i] = float32(rng.NormFloat64())
			}
			imgs, err = models.Decode(m, z, nSamples)
		}
		if err != nil {
			return nil, fmt.Errorf("sampling: %w", err)
		}
		groups = append(groups, eval.GridRow{Title: "prior N(0, I)", Images: imgs})
	}
	mix, err := LatentSampler(m, train, seed)
	if err != nil {
		return nil, err
	}
	imgs, err := models.Decode(m, mix.Sample(nSamples, rngFor(seed, 0x6a7e)), nSamples)
	if err != nil {
		return nil, fmt.Errorf("decoding mixture samples: %w", err)
	}
	groups = append(groups, eval.GridRow{Title: fmt.Sprintf("mixture (K=%d)", mix.K), Images: imgs})
	testCodes, err := models.Encode(m, test.X, test.N)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", test.Name, err)
	}
	if r.Figures["gmm_test_loglik"], err = mix.MeanLogLikelihood(testCodes, test.N); err != nil {
		return nil, err
	}
	prior := &eval.GMM{K: 1, D: spec.Latent, Weights: []float64{1}, Means: [][]float64{make([]float64, spec.Latent)}, Vars: [][]float64{ones(spec.Latent)}}
	if r.Figures["prior_test_loglik"], err = prior.MeanLogLikelihood(testCodes, test.N); err != nil {
		return nil, err
	}
	r.Figures["gmm_components"] = float64(mix.K)
	r.Figures["gmm_train_loglik"] = mix.LogLikelihood
	header := fmt.Sprintf("%d decodings of codes drawn from a %d-component Gaussian mixture fitted on training codes", nSamples, mix.K)
	if len(groups) == 2 {
		header = fmt.Sprintf("%d decodings each: codes from the prior N(0, I), and from a %d-component mixture fitted on training codes", nSamples, mix.K)
	}
	if err := eval.SaveLabelledGrid(join(out, "samples.png"), header, groups, test.C, test.H, test.W, 8); err != nil {
		return nil, err
	}
	r.image("samples.png")
	if len(groups) == 2 {
		r.note("samples.png: top, decodings of prior draws; bottom, decodings of draws from the mixture fitted on training codes")
	} else {
		r.note("samples.png: decodings of draws from the mixture fitted on training codes (a plain autoencoder has no prior)")
	}

	// Pairs of test images: 0-1, 2-3, ... (a pair of different classes would
	// be a nicer path, but these repeat exactly).
	if test.N < 2*pairs {
		r.note("fewer than %d test images: interpolation.png left out", 2*pairs)
		return r, nil
	}
	dim := test.Dim()
	var rows []eval.GridRow
	interp, hasOwn := m.(models.Generator)
	var codes []float32
	if !hasOwn {
		if codes, err = models.Encode(m, test.X[:2*pairs*dim], 2*pairs); err != nil {
			return nil, fmt.Errorf("encoding test images: %w", err)
		}
	}
	for p := range pairs {
		a, b := test.Sample(2*p), test.Sample(2*p+1)
		var row []float32
		if hasOwn {
			row, err = interp.Interpolate(a, b, steps)
		} else {
			k := spec.Latent
			za, zb := codes[2*p*k:(2*p+1)*k], codes[(2*p+1)*k:(2*p+2)*k]
			z := make([]float32, steps*k)
			for s := range steps {
				t := float32(s) / float32(steps-1)
				for j := range k {
					z[s*k+j] = (1-t)*za[j] + t*zb[j]
				}
			}
			row, err = models.Decode(m, z, steps)
		}
		if err != nil {
			return nil, fmt.Errorf("interpolating pair %d: %w", p, err)
		}
		// The real inputs frame each row.
		rows = append(rows, eval.GridRow{Title: fmt.Sprintf("pair %d", p+1), Images: slices.Concat(a, row, b)})
	}
	header = fmt.Sprintf("interpolation: test image A, %d decodings from A's code to B's, test image B", steps)
	if err := eval.SaveLabelledGrid(join(out, "interpolation.png"), header, rows, test.C, test.H, test.W, steps+2); err != nil {
		return nil, err
	}
	r.image("interpolation.png")
	r.note("interpolation.png: each row is a test image, %d decodings along the line between its code and the next image's, and that image", steps)
	return r, nil
}

// SamplerComponents and SamplerCodes are the latent sampler's mixture size
// and the most training codes it is fitted on (a seeded subset beyond that
// keeps EM to seconds).
const (
	SamplerComponents = 10
	SamplerCodes      = 20000
)

// LatentSampler fits the post-hoc latent sampler of m: a diagonal Gaussian
// mixture with SamplerComponents components on the codes of (at most
// SamplerCodes of) train, seeded.
func LatentSampler(m models.Model, train *dataset.Dataset, seed uint64) (*eval.GMM, error) {
	idx := subsample(train.N, SamplerCodes, seed)
	dim := train.Dim()
	x := train.X
	if len(idx) < train.N {
		x = make([]float32, len(idx)*dim)
		for j, i := range idx {
			copy(x[j*dim:(j+1)*dim], train.X[i*dim:(i+1)*dim])
		}
	}
	codes, err := models.Encode(m, x, len(idx))
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", train.Name, err)
	}
	g, err := eval.FitGMM(codes, len(idx), m.Spec().Latent, eval.GMMOptions{K: min(SamplerComponents, len(idx)), Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("fitting the latent mixture: %w", err)
	}
	return g, nil
}

func ones(n int) []float64 {
	o := make([]float64, n)
	for i := range o {
		o[i] = 1
	}
	return o
}
