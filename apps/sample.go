package apps

import (
	"fmt"
	"slices"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
)

func sortInts(s []int) { slices.Sort(s) }

// Sample draws images from a variational model: samples.png, a grid of
// decodings of prior draws z ~ N(0, I), and interpolation.png, rows of
// decodings along the straight line between the codes of pairs of test
// images (the two ends are the reconstructions of the pair).
func Sample(m models.Model, test *dataset.Dataset, seed uint64, out string) (*Result, error) {
	if !IsVariational(m) {
		return nil, fmt.Errorf("task sample needs a variational model (vae, convvae); this checkpoint is %s, which has no prior to draw from", m.Spec().Kind)
	}
	if err := CheckShape(m, test); err != nil {
		return nil, err
	}
	if !IsImage(test) {
		return nil, fmt.Errorf("task sample draws pictures, but %s holds table rows", test.Name)
	}
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	const nSamples, pairs, steps = 64, 8, 10
	spec := m.Spec()
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
	if err := eval.SaveLabelledGrid(join(out, "samples.png"), fmt.Sprintf("%d decodings of codes drawn from the prior N(0, I)", nSamples),
		[]eval.GridRow{{Title: "samples from the prior", Images: imgs}}, test.C, test.H, test.W, 8); err != nil {
		return nil, err
	}
	r := newResult("sample")
	r.image("samples.png")

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
	header := fmt.Sprintf("interpolation: test image A, %d decodings from A's code to B's, test image B", steps)
	if err := eval.SaveLabelledGrid(join(out, "interpolation.png"), header, rows, test.C, test.H, test.W, steps+2); err != nil {
		return nil, err
	}
	r.image("interpolation.png")
	r.note("interpolation.png: each row is a test image, %d decodings along the line between its code and the next image's, and that image", steps)
	return r, nil
}
