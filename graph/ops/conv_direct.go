package ops

import "github.com/hourglass-ml/hourglass/internal/kernels"

// A same convolution (stride 1, output as large as the input) with only a
// channel or two out is a matrix–vector product once unfolded: im2col would
// write C·K² shifted copies of each image (288 for the conv decoder's 32→1
// output layer, 900 KB an image) for a GEMM that reads each copied value
// once or twice. Without the unfolding, each kernel tap is one axpy (forward,
// dx) or one dot product (dw) between a channel and the output plane, read
// flat at the tap's offset; everything stays in L1/L2.
//
// Read flat, a tap's offset also pairs the first or last columns of a row
// with the neighbouring row's pixels, which the convolution sees as padding.
// So each tap column kj reads a masked copy: forward, the input channel with
// the columns only a wrapped read reaches set to zero; backward, dz with the
// output columns that fall on the padding set to zero. The wrong terms are
// then exact zeros, and there is one copy per channel and kj, not per tap.

// directMaxOut is the most output channels a same convolution may have to
// skip im2col: with more, each input value feeds that many outputs and the
// GEMM's register blocking wins.
const directMaxOut = 2

// direct reports whether the convolution skips im2col (see directMaxOut).
func (g convGeom) direct() bool { return g.same() && g.outC <= directMaxOut }

// tap is the flat range [a, b) of output indices of tap (ki, kj) whose input
// index (output index + off) lies inside the channel; a == b when none does.
func (g convGeom) tap(ki, kj int) (a, b, off int) {
	oy0, oy1, off := g.rowsFor(ki, kj)
	a, b = flatRange(oy0*g.ow, oy1*g.ow, off, g.h*g.w)
	if lo, hi := g.validCols(kj); lo >= hi {
		return 0, 0, off
	}
	return a, b, off
}

// maskInput writes into m (k planes) channel xc once per kernel column kj,
// with the input columns that only a read wrapping round a row reaches set
// to zero: for the column shift s = kj − pad, the last −s columns when s < 0
// and the first s when s > 0.
func (g convGeom) maskInput(xc, m []float32) {
	hw := g.h * g.w
	for kj := 0; kj < g.k; kj++ {
		mk := m[kj*hw : (kj+1)*hw]
		copy(mk, xc)
		s := kj - g.pad
		lo, hi := 0, 0 // columns to zero
		switch {
		case s < 0:
			lo, hi = max(0, g.w+s), g.w
		case s > 0:
			lo, hi = 0, min(s, g.w)
		}
		for r := 0; r < g.h && lo < hi; r++ {
			clear(mk[r*g.w+lo : r*g.w+hi])
		}
	}
}

// maskGrad writes into m (k planes) the output gradient dzo once per kernel
// column kj, with the output columns outside kj's valid columns set to zero.
func (g convGeom) maskGrad(dzo, m []float32) {
	p := g.plane()
	for kj := 0; kj < g.k; kj++ {
		mk := m[kj*p : (kj+1)*p]
		copy(mk, dzo)
		lo, hi := g.validCols(kj)
		g.clearPadCols(mk, 0, g.oh, lo, hi)
	}
}

// directForward adds W ⋆ x (no bias) for one image into y (outC planes,
// cleared by the caller). m is scratch of k planes.
func (g convGeom) directForward(x, w, y, m []float32) {
	p, hw, ckk := g.plane(), g.h*g.w, g.ckk()
	for c := 0; c < g.inC; c++ {
		g.maskInput(x[c*hw:(c+1)*hw], m)
		for o := 0; o < g.outC; o++ {
			yo := y[o*p : (o+1)*p]
			for ki := 0; ki < g.k; ki++ {
				for kj := 0; kj < g.k; kj++ {
					if a, b, off := g.tap(ki, kj); a < b {
						mk := m[kj*hw : (kj+1)*hw]
						kernels.Axpy(yo[a:b], mk[a+off:b+off], w[o*ckk+(c*g.k+ki)*g.k+kj])
					}
				}
			}
		}
	}
}

// directBackward adds one image's gradients: dx += Wᵀ ⋆ dz (dx cleared by
// the caller; skipped when nil) and acc += dz_o · x_c at each tap's shift
// (acc is outC×C×K×K; skipped when nil). m is scratch of k planes.
func (g convGeom) directBackward(x, dz, w, dx, acc, m []float32) {
	p, hw, ckk := g.plane(), g.h*g.w, g.ckk()
	for o := 0; o < g.outC; o++ {
		g.maskGrad(dz[o*p:(o+1)*p], m)
		for c := 0; c < g.inC; c++ {
			for ki := 0; ki < g.k; ki++ {
				for kj := 0; kj < g.k; kj++ {
					a, b, off := g.tap(ki, kj)
					if a >= b {
						continue
					}
					mk, r := m[kj*p:(kj+1)*p], o*ckk+(c*g.k+ki)*g.k+kj
					if dx != nil {
						dc := dx[c*hw : (c+1)*hw]
						kernels.Axpy(dc[a+off:b+off], mk[a:b], w[r])
					}
					if acc != nil {
						xc := x[c*hw : (c+1)*hw]
						acc[r] += kernels.Dot(mk[a:b], xc[a+off:b+off])
					}
				}
			}
		}
	}
}
