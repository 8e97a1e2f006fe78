package ops

import (
	"fmt"
	"hash"
	"runtime"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// Conv2dAct adds one fused node computing act(W ⋆ x + b) to x's graph: a
// square-kernel cross-correlation over float32 NCHW batches with stride and
// zero padding on both axes and dilation 1. x is N×C×H×W, w is OutC×C×K×K
// (the layout Gorgonia's Conv2d uses) and b has one value per output channel.
//
// Forward unfolds each image into an op-owned im2col buffer and multiplies it
// by w with one GEMM into the output, then adds the bias and applies act in
// the same pass; images are split across cores. Backward is one elementwise
// pass (activation derivative), per-image GEMMs for dw (accumulated over the
// batch) and dx (followed by col2im), and a sum for db. As with DenseAct, the
// gradient with respect to x is produced only when x is itself computed by an
// op: a leaf x is treated as data. Output buffers belong to the op and are
// reused on every run (see DenseAct).
func Conv2dAct(x, w, b *gorgonia.Node, stride, pad int, act Activation) (*gorgonia.Node, error) {
	if !fusedActOK(act) {
		return nil, fmt.Errorf("conv layer: activation %q unknown: use relu, sigmoid, tanh or identity", act)
	}
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 {
		return nil, fmt.Errorf("conv layer: x %v and w %v must both have 4 dimensions (NCHW and OutC×C×K×K)", xs, ws)
	}
	if ws[2] != ws[3] {
		return nil, fmt.Errorf("conv layer: kernel %d×%d of w %v must be square", ws[2], ws[3], ws)
	}
	if xs[1] != ws[1] {
		return nil, fmt.Errorf("conv layer: x %v has %d channels but w %v expects %d", xs, xs[1], ws, ws[1])
	}
	if bs.TotalSize() != ws[0] || bs.Dims() != 1 {
		return nil, fmt.Errorf("conv layer: bias %v must be (%d) to match w %v", bs, ws[0], ws)
	}
	if stride <= 0 || pad < 0 {
		return nil, fmt.Errorf("conv layer: stride %d must be positive and pad %d non-negative", stride, pad)
	}
	if x.Dtype() != tensor.Float32 || w.Dtype() != tensor.Float32 || b.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("conv layer: x, w, b must be float32, got %v, %v, %v", x.Dtype(), w.Dtype(), b.Dtype())
	}
	k := ws[2]
	if xs[2]+2*pad < k || xs[3]+2*pad < k {
		return nil, fmt.Errorf("conv layer: input %d×%d is smaller than the %d×%d kernel (padding %d)", xs[2], xs[3], k, k, pad)
	}
	geo := convGeom{
		inC: xs[1], outC: ws[0], h: xs[2], w: xs[3], k: k, stride: stride, pad: pad,
		oh: (xs[2]+2*pad-k)/stride + 1, ow: (xs[3]+2*pad-k)/stride + 1,
	}
	op := &convOp{geo: geo, act: act, needDX: x.Op() != nil}
	n, err := gorgonia.ApplyOp(op, x, w, b)
	if err != nil {
		return nil, fmt.Errorf("conv layer (%s): %w", act, err)
	}
	return n, nil
}

// convGeom is the fixed geometry of one convolution.
type convGeom struct {
	inC, outC, h, w, k, stride, pad, oh, ow int
}

func (g convGeom) ckk() int    { return g.inC * g.k * g.k } // rows of the im2col matrix
func (g convGeom) plane() int  { return g.oh * g.ow }       // columns of the im2col matrix
func (g convGeom) inSize() int { return g.inC * g.h * g.w } // values per input image
func (g convGeom) outSize() int {
	return g.outC * g.oh * g.ow
}
func (g convGeom) String() string {
	return fmt.Sprintf("%d→%d,%d×%d,k%d,s%d,p%d", g.inC, g.outC, g.h, g.w, g.k, g.stride, g.pad)
}

// check verifies that runtime shapes match the geometry the node was built with.
func (g convGeom) checkX(s tensor.Shape, what string) error {
	if s.Dims() != 4 || s[1] != g.inC || s[2] != g.h || s[3] != g.w {
		return fmt.Errorf("%s: shape %v, want (batch, %d, %d, %d)", what, s, g.inC, g.h, g.w)
	}
	return nil
}
func (g convGeom) checkDZ(s tensor.Shape, what string) error {
	if s.Dims() != 4 || s[1] != g.outC || s[2] != g.oh || s[3] != g.ow {
		return fmt.Errorf("%s: shape %v, want (batch, %d, %d, %d)", what, s, g.outC, g.oh, g.ow)
	}
	return nil
}
func (g convGeom) checkW(s tensor.Shape, what string) error {
	if s.Dims() != 4 || s[0] != g.outC || s[1] != g.inC || s[2] != g.k || s[3] != g.k {
		return fmt.Errorf("%s: shape %v, want (%d, %d, %d, %d)", what, s, g.outC, g.inC, g.k, g.k)
	}
	return nil
}

// im2col writes the ckk×plane matrix whose column (oy, ox) holds the
// receptive field of output pixel (oy, ox), row (c, ki, kj) matching w's
// layout. pad is scratch of padSize values, used when sharedPad.
func (g convGeom) im2col(x, col, pad []float32) {
	p := g.plane()
	x, col = x[:g.inSize()], col[:g.ckk()*p]
	if g.sharedPad() {
		g.padInput(x, pad)
		l, r := g.padLen(), 0
		for c := 0; c < g.inC; c++ {
			xp := pad[c*l : (c+1)*l]
			for ki := 0; ki < g.k; ki++ {
				for kj := 0; kj < g.k; kj++ {
					copy(col[r*p:r*p+p], xp[ki*g.ow+kj:])
					r++
				}
			}
		}
		return
	}
	r := 0
	for c := 0; c < g.inC; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.k; ki++ {
			for kj := 0; kj < g.k; kj++ {
				row := col[r*p : r*p+p]
				r++
				lo, hi := g.validCols(kj)
				if g.same() {
					g.shiftCopy(row, xc, ki, kj, lo, hi)
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					dst := row[oy*g.ow : oy*g.ow+g.ow]
					iy := oy*g.stride - g.pad + ki
					if iy < 0 || iy >= g.h || lo >= hi {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					src := xc[iy*g.w : iy*g.w+g.w]
					ix := lo*g.stride - g.pad + kj
					if g.stride == 1 {
						copy(dst[lo:hi], src[ix:ix+hi-lo])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ox] = src[ix]
						ix += g.stride
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it sets dx to the sum of every entry of
// col over the input pixel it was read from. Entries of col that fall on
// the padding may be cleared; pad is scratch as for im2col.
func (g convGeom) col2im(col, dx, pad []float32) {
	p := g.plane()
	dx, col = dx[:g.inSize()], col[:g.ckk()*p]
	if g.sharedPad() {
		l, r := g.padLen(), 0
		pad = pad[:g.padSize()]
		clear(pad)
		for c := 0; c < g.inC; c++ {
			dp := pad[c*l : (c+1)*l]
			for ki := 0; ki < g.k; ki++ {
				for kj := 0; kj < g.k; kj++ {
					kernels.AddTo(dp[ki*g.ow+kj:ki*g.ow+kj+p], col[r*p:r*p+p])
					r++
				}
			}
		}
		g.unpad(pad, dx) // what landed on the padding is dropped
		return
	}
	clear(dx)
	r := 0
	for c := 0; c < g.inC; c++ {
		dc := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.k; ki++ {
			for kj := 0; kj < g.k; kj++ {
				row := col[r*p : r*p+p]
				r++
				lo, hi := g.validCols(kj)
				if lo >= hi {
					continue
				}
				if g.same() {
					g.shiftAdd(row, dc, ki, kj, lo, hi)
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.stride - g.pad + ki
					if iy < 0 || iy >= g.h {
						continue
					}
					src := row[oy*g.ow : oy*g.ow+g.ow]
					dst := dc[iy*g.w : iy*g.w+g.w]
					ix := lo*g.stride - g.pad + kj
					if g.stride == 1 {
						kernels.AddTo(dst[ix:ix+hi-lo], src[lo:hi])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ix] += src[ox]
						ix += g.stride
					}
				}
			}
		}
	}
}

// sharedPad reports a stride-1 convolution whose padding is at least k − 1
// wide and whose output is larger than its input (the phase convolution's
// k 2, pad 1). Its output rows are then ow = w + 2·pad − k + 1 wide, and an
// input channel laid out with padding but with rows only ow apart (see
// padInput) has its neighbouring rows' padding columns overlap, all of it
// zeros: every im2col row is that padded channel shifted by ki·ow + kj, one
// flat copy (and col2im one flat add) instead of one per output row.
func (g convGeom) sharedPad() bool {
	return g.stride == 1 && g.k > 1 && g.pad >= g.k-1 && !g.same()
}

// padLen is the length of one padded channel: padded row py ∈ [0, h+2·pad)
// and column px ∈ [0, w+2·pad) at py·ow + px.
func (g convGeom) padLen() int { return (g.h+2*g.pad)*g.ow + g.k - 1 }

// padSize is the scratch im2col and col2im need, 0 when not sharedPad.
func (g convGeom) padSize() int {
	if !g.sharedPad() {
		return 0
	}
	return g.inC * g.padLen()
}

// padInput writes x's channels into pad laid out as padLen describes,
// every value outside the image zero.
func (g convGeom) padInput(x, pad []float32) {
	l, ow, w := g.padLen(), g.ow, g.w
	for c := 0; c < g.inC; c++ {
		xc, xp := x[c*g.h*w:(c+1)*g.h*w], pad[c*l:(c+1)*l]
		at := g.pad*ow + g.pad // where image row 0 starts
		clear(xp[:at])
		for iy := 0; iy < g.h; iy++ {
			copy(xp[at:at+w], xc[iy*w:iy*w+w])
			gap := xp[at+w : min(at+ow, l)] // this row's right and the next one's left padding
			for j := range gap {
				gap[j] = 0
			}
			at += ow
		}
		clear(xp[min(at+w-ow, l):])
	}
}

// unpad copies the image's values out of a padded layout (padInput's inverse).
func (g convGeom) unpad(pad, dx []float32) {
	l, ow, w := g.padLen(), g.ow, g.w
	for c := 0; c < g.inC; c++ {
		dc, dp := dx[c*g.h*w:(c+1)*g.h*w], pad[c*l:(c+1)*l]
		at := g.pad*ow + g.pad
		for iy := 0; iy < g.h; iy++ {
			copy(dc[iy*w:iy*w+w], dp[at:at+w])
			at += ow
		}
	}
}

// same reports a stride-1 convolution whose output is as large as its
// input (2·pad = k − 1). Then an im2col row, read as one flat slice, is the
// input channel shifted by (ki − pad)·w + (kj − pad), apart from the columns
// that fall on the padding: one copy per row instead of one per output row.
func (g convGeom) same() bool { return g.stride == 1 && g.oh == g.h && g.ow == g.w }

// rowsFor is the range [oy0, oy1) of output rows whose input row
// oy − pad + ki lies inside a same convolution's image, and the flat offset
// from an output index to its input index.
func (g convGeom) rowsFor(ki, kj int) (oy0, oy1, off int) {
	oy0, oy1 = max(0, g.pad-ki), min(g.oh, g.h+g.pad-ki)
	return oy0, max(oy0, oy1), (ki-g.pad)*g.w + kj - g.pad
}

// flatRange clamps the output indices [lo, hi) so that index + off stays in
// an image of n values; what it cuts lies on the padding columns.
func flatRange(lo, hi, off, n int) (int, int) {
	a := min(max(lo, -off), hi)
	return a, max(a, min(hi, n-off))
}

// shiftCopy writes the im2col row of (ki, kj) of a same convolution.
func (g convGeom) shiftCopy(row, xc []float32, ki, kj, lo, hi int) {
	ow := g.ow
	oy0, oy1, off := g.rowsFor(ki, kj)
	clear(row[:oy0*ow])
	clear(row[oy1*ow:])
	a, b := flatRange(oy0*ow, oy1*ow, off, len(xc))
	if a == b { // no row of the kernel's reach lies inside the image
		clear(row)
		return
	}
	clear(row[oy0*ow : a])
	copy(row[a:b], xc[a+off:b+off])
	clear(row[b : oy1*ow])
	g.clearPadCols(row, oy0, oy1, lo, hi)
}

// shiftAdd is shiftCopy's adjoint: it adds the row into the input channel.
func (g convGeom) shiftAdd(row, dc []float32, ki, kj, lo, hi int) {
	oy0, oy1, off := g.rowsFor(ki, kj)
	g.clearPadCols(row, oy0, oy1, lo, hi) // they would land on the neighbouring row
	if a, b := flatRange(oy0*g.ow, oy1*g.ow, off, len(dc)); a < b {
		kernels.AddTo(dc[a+off:b+off], row[a:b])
	}
}

// clearPadCols zeroes the columns outside [lo, hi) of output rows [oy0, oy1).
func (g convGeom) clearPadCols(row []float32, oy0, oy1, lo, hi int) {
	if lo == 0 && hi == g.ow {
		return
	}
	// A pad or two per row: plain stores beat a clear call each.
	for oy := oy0; oy < oy1; oy++ {
		r := row[oy*g.ow : (oy+1)*g.ow]
		for j := range lo {
			r[j] = 0
		}
		for j := hi; j < len(r); j++ {
			r[j] = 0
		}
	}
}

// validCols is the range [lo, hi) of output columns whose input column
// ox·stride − pad + kj falls inside the image.
func (g convGeom) validCols(kj int) (lo, hi int) {
	// ox·s − pad + kj ≥ 0  ⇔  ox ≥ ⌈(pad − kj)/s⌉
	if d := g.pad - kj; d > 0 {
		lo = (d + g.stride - 1) / g.stride
	}
	// ox·s − pad + kj ≤ w − 1  ⇔  ox ≤ ⌊(w − 1 + pad − kj)/s⌋
	if d := g.w - 1 + g.pad - kj; d >= 0 {
		hi = min(d/g.stride+1, g.ow)
	}
	return min(lo, hi), hi
}

// convScratch is one worker's reusable buffers.
type convScratch struct {
	col  []float32 // im2col (or its gradient) of one image
	pad  []float32 // one image padded, for a sharedPad convolution
	acc  []float32 // a worker's partial dw
	brow []float32 // one output row filled with a channel's bias
	ws   kernels.Scratch
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// forImages splits n images into contiguous chunks, one per worker, and runs
// fn(worker, lo, hi) for each, in parallel when work (values touched) is large
// enough. Each worker index owns scratch[worker], grown to the worker count,
// which it returns.
func forImages(scratch *[]convScratch, n, work int, fn func(s *convScratch, lo, hi int)) int {
	workers := 1
	if work >= kernels.ParallelMinWork {
		workers = max(1, min(runtime.GOMAXPROCS(0), n, 8))
	}
	if len(*scratch) < workers {
		*scratch = append(*scratch, make([]convScratch, workers-len(*scratch))...)
	}
	sc := *scratch
	run := func() {
		kernels.ParallelFor(workers, work, func(lo, hi int) {
			for wk := lo; wk < hi; wk++ {
				fn(&sc[wk], wk*n/workers, (wk+1)*n/workers)
			}
		})
	}
	if workers > 1 {
		kernels.SerialBLAS(run) // each worker's GEMMs on its own core
	} else {
		run()
	}
	return workers
}

// ---------------------------------------------------------------------------
// convOp: y = act(W ⋆ x + b)

type convOp struct {
	geo     convGeom
	act     Activation
	needDX  bool
	out     *tensor.Dense
	scratch []convScratch
	// keep (set when the gradient is built) holds every image's im2col
	// matrix in cols after a forward pass, for the weight gradient to read
	// instead of unfolding x again; colsX and colsN say which input they
	// are of.
	keep  bool
	cols  []float32
	colsX *float32
	colsN int
}

// keptCols is image i's im2col matrix from the forward pass over x, or nil
// when the forward pass kept none for this x.
func (op *convOp) keptCols(x []float32, n, i int) []float32 {
	if op == nil || !op.keep || op.colsN != n || len(x) == 0 || op.colsX != &x[0] {
		return nil
	}
	sz := op.geo.ckk() * op.geo.plane()
	return op.cols[i*sz : (i+1)*sz]
}

func (op *convOp) Arity() int { return 3 }
func (op *convOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	return hm.NewFnType(t4, t4, gorgonia.TensorType{Dims: 1, Of: a}, t4)
}
func (op *convOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkArity("conv layer", 3, len(in)); err != nil {
		return nil, err
	}
	xs, ok := in[0].(tensor.Shape)
	if !ok || xs.Dims() != 4 {
		return nil, fmt.Errorf("conv layer: want an NCHW input shape, got %v", in[0])
	}
	return tensor.Shape{xs[0], op.geo.outC, op.geo.oh, op.geo.ow}, nil
}
func (op *convOp) ReturnsPtr() bool     { return false }
func (op *convOp) CallsExtern() bool    { return false }
func (op *convOp) OverwritesInput() int { return -1 }
func (op *convOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ConvAct{%v,%s,%t}", op.geo, op.act, op.needDX)
}
func (op *convOp) Hashcode() uint32 { return hashOf(op) }
func (op *convOp) String() string   { return fmt.Sprintf("ConvAct{%v,%s}", op.geo, op.act) }

func (op *convOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("conv layer", 3, len(in)); err != nil {
		return nil, err
	}
	g := op.geo
	x, xs, err := f32s(in[0], "conv layer input x")
	if err != nil {
		return nil, err
	}
	if err := g.checkX(xs, "conv layer input x"); err != nil {
		return nil, err
	}
	w, wsh, err := f32s(in[1], "conv layer weight w")
	if err != nil {
		return nil, err
	}
	if err := g.checkW(wsh, "conv layer weight w"); err != nil {
		return nil, err
	}
	b, _, err := f32s(in[2], "conv layer bias b")
	if err != nil {
		return nil, err
	}
	if len(b) != g.outC {
		return nil, fmt.Errorf("conv layer bias b: %d values, want %d", len(b), g.outC)
	}
	n := xs[0]
	out := ownBuf(&op.out, n, g.outC, g.oh, g.ow)
	y := out.Float32s()
	ckk, p, outSz, inSz := g.ckk(), g.plane(), g.outSize(), g.inSize()
	keep := op.keep // never set for a direct convolution, which has no im2col
	op.colsN = 0    // invalid while they are rewritten
	if keep {
		op.cols = grow(op.cols, n*ckk*p)
	}
	forImages(&op.scratch, n, n*ckk*p*2, func(s *convScratch, lo, hi int) {
		if g.direct() {
			s.col = grow(s.col, g.k*p)
		} else if !keep {
			s.col = grow(s.col, ckk*p)
		}
		s.brow = grow(s.brow, p)
		s.pad = grow(s.pad, g.padSize())
		for i := lo; i < hi; i++ {
			yi := y[i*outSz : (i+1)*outSz]
			if g.direct() {
				clear(yi)
				g.directForward(x[i*inSz:(i+1)*inSz], w, yi, s.col)
			} else {
				col := s.col
				if keep {
					col = op.cols[i*ckk*p : (i+1)*ckk*p]
				}
				g.im2col(x[i*inSz:(i+1)*inSz], col, s.pad)
				kernels.Sgemm(false, false, g.outC, p, ckk, w, ckk, col, p, 0, yi, p, &s.ws)
			}
			for c := 0; c < g.outC; c++ {
				bc := b[c]
				for j := range s.brow {
					s.brow[j] = bc
				}
				biasActRow(yi[c*p:(c+1)*p], s.brow, op.act)
			}
		}
	})
	if keep {
		op.colsX, op.colsN = &x[0], n
	}
	return out, nil
}

func (op *convOp) DiffWRT(inputs int) []bool { return []bool{op.needDX, true, true} }

func (op *convOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity("conv layer gradient", 3, len(inputs)); err != nil {
		return nil, err
	}
	x, w := inputs[0], inputs[1]
	dz := grad
	if op.act != Identity {
		var err error
		if dz, err = gorgonia.ApplyOp(&convActGradOp{act: op.act}, output, grad); err != nil {
			return nil, fmt.Errorf("conv layer gradient (%s derivative): %w", op.act, err)
		}
	}
	var dx *gorgonia.Node
	if op.needDX {
		var err error
		if dx, err = gorgonia.ApplyOp(&convDXOp{geo: op.geo}, w, dz); err != nil {
			return nil, fmt.Errorf("conv layer gradient dx: %w", err)
		}
	}
	// The weight gradient reads the forward pass's im2col matrices.
	op.keep = !op.geo.direct()
	dw, err := gorgonia.ApplyOp(&convDWOp{geo: op.geo, fwd: op}, x, dz)
	if err != nil {
		return nil, fmt.Errorf("conv layer gradient dw: %w", err)
	}
	db, err := gorgonia.ApplyOp(&convDBOp{geo: op.geo}, dz)
	if err != nil {
		return nil, fmt.Errorf("conv layer gradient db: %w", err)
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}

// ---------------------------------------------------------------------------
// convActGradOp: dz = gy ⊙ act'(y) on NCHW tensors.

type convActGradOp struct {
	act Activation
	out *tensor.Dense
}

func (op *convActGradOp) Arity() int { return 2 }
func (op *convActGradOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *convActGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkArity("conv activation gradient", 2, len(in)); err != nil {
		return nil, err
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("conv activation gradient: want a shape, got %v", in[0])
	}
	return s.Clone(), nil
}
func (op *convActGradOp) ReturnsPtr() bool      { return false }
func (op *convActGradOp) CallsExtern() bool     { return false }
func (op *convActGradOp) OverwritesInput() int  { return -1 }
func (op *convActGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *convActGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *convActGradOp) String() string        { return fmt.Sprintf("ConvActGrad{%s}", op.act) }
func (op *convActGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("conv activation gradient", 2, len(in)); err != nil {
		return nil, err
	}
	y, ys, err := f32s(in[0], "conv activation gradient output y")
	if err != nil {
		return nil, err
	}
	gy, _, err := f32s(in[1], "conv activation gradient incoming grad")
	if err != nil {
		return nil, err
	}
	if len(gy) != len(y) {
		return nil, fmt.Errorf("conv activation gradient: y has %d values, incoming grad %d", len(y), len(gy))
	}
	out := ownBuf(&op.out, ys...)
	dz := out.Float32s()[:len(y)]
	gy = gy[:len(y)]
	kernels.ParallelFor(len(y), len(y), func(lo, hi int) {
		actGrad(op.act, y[lo:hi], gy[lo:hi], dz[lo:hi])
	})
	return out, nil
}

// ---------------------------------------------------------------------------
// convDWOp: dw = Σ_images dz_i · im2col(x_i)ᵀ, shaped OutC×C×K×K.

type convDWOp struct {
	geo     convGeom
	fwd     *convOp // whose kept im2col matrices it reads, when they are of x
	out     *tensor.Dense
	scratch []convScratch
}

func (op *convDWOp) Arity() int { return 2 }
func (op *convDWOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *convDWOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.geo.outC, op.geo.inC, op.geo.k, op.geo.k}, nil
}
func (op *convDWOp) ReturnsPtr() bool      { return false }
func (op *convDWOp) CallsExtern() bool     { return false }
func (op *convDWOp) OverwritesInput() int  { return -1 }
func (op *convDWOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *convDWOp) Hashcode() uint32      { return hashOf(op) }
func (op *convDWOp) String() string        { return fmt.Sprintf("ConvDW{%v}", op.geo) }
func (op *convDWOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("conv weight gradient", 2, len(in)); err != nil {
		return nil, err
	}
	g := op.geo
	x, xs, err := f32s(in[0], "conv weight gradient input x")
	if err != nil {
		return nil, err
	}
	if err := g.checkX(xs, "conv weight gradient input x"); err != nil {
		return nil, err
	}
	dz, dzs, err := f32s(in[1], "conv weight gradient incoming grad")
	if err != nil {
		return nil, err
	}
	if err := g.checkDZ(dzs, "conv weight gradient incoming grad"); err != nil {
		return nil, err
	}
	if dzs[0] != xs[0] {
		return nil, fmt.Errorf("conv weight gradient: batch of x %v and incoming grad %v differ", xs, dzs)
	}
	n := xs[0]
	out := ownBuf(&op.out, g.outC, g.inC, g.k, g.k)
	dw := out.Float32s()
	ckk, p, outSz, inSz := g.ckk(), g.plane(), g.outSize(), g.inSize()
	// The GEMM packs its transposed operand, element by element. When the
	// im2col matrix is the larger one (ckk > outC), dwᵀ = col · dzᵀ packs
	// only dz and reads col in place, and the sum is transposed once at the
	// end; otherwise dw = dz · colᵀ, which for a few output channels is a
	// dot product per weight (sgemm's few-rows path) with nothing packed.
	transposed := ckk > g.outC && g.outC >= 8 && !g.direct()
	workers := forImages(&op.scratch, n, n*ckk*p*2, func(s *convScratch, lo, hi int) {
		s.acc = grow(s.acc, g.outC*ckk)
		clear(s.acc)
		if g.direct() {
			s.col = grow(s.col, g.k*p)
			for i := lo; i < hi; i++ {
				g.directBackward(x[i*inSz:(i+1)*inSz], dz[i*outSz:(i+1)*outSz], nil, nil, s.acc, s.col)
			}
			return
		}
		for i := lo; i < hi; i++ {
			col := op.fwd.keptCols(x, n, i)
			if col == nil {
				s.col = grow(s.col, ckk*p)
				s.pad = grow(s.pad, g.padSize())
				col = s.col
				g.im2col(x[i*inSz:(i+1)*inSz], col, s.pad)
			}
			dzi := dz[i*outSz : (i+1)*outSz]
			if transposed {
				kernels.Sgemm(false, true, ckk, g.outC, p, col, p, dzi, p, 1, s.acc, g.outC, &s.ws)
			} else {
				kernels.Sgemm(false, true, g.outC, ckk, p, dzi, p, col, p, 1, s.acc, ckk, &s.ws)
			}
		}
	})
	sum := op.scratch[0].acc
	for wk := 1; wk < workers; wk++ {
		kernels.AddTo(sum, op.scratch[wk].acc)
	}
	if !transposed {
		copy(dw, sum)
		return out, nil
	}
	for r := range ckk {
		row := sum[r*g.outC : (r+1)*g.outC]
		for o, v := range row {
			dw[o*ckk+r] = v
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// convDBOp: db[c] = Σ_{i, pixels} dz[i, c, ·].

type convDBOp struct {
	geo convGeom
	out *tensor.Dense
}

func (op *convDBOp) Arity() int { return 1 }
func (op *convDBOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 4, Of: a}, gorgonia.TensorType{Dims: 1, Of: a})
}
func (op *convDBOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.geo.outC}, nil
}
func (op *convDBOp) ReturnsPtr() bool      { return false }
func (op *convDBOp) CallsExtern() bool     { return false }
func (op *convDBOp) OverwritesInput() int  { return -1 }
func (op *convDBOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *convDBOp) Hashcode() uint32      { return hashOf(op) }
func (op *convDBOp) String() string        { return fmt.Sprintf("ConvDB{%v}", op.geo) }
func (op *convDBOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("conv bias gradient", 1, len(in)); err != nil {
		return nil, err
	}
	g := op.geo
	dz, dzs, err := f32s(in[0], "conv bias gradient incoming grad")
	if err != nil {
		return nil, err
	}
	if err := g.checkDZ(dzs, "conv bias gradient incoming grad"); err != nil {
		return nil, err
	}
	out := ownBuf(&op.out, g.outC)
	db := out.Float32s()
	p := g.plane()
	// Channels are summed independently, each in the same order whatever
	// the split, so the result does not depend on the number of cores.
	kernels.ParallelFor(len(db), len(dz), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float32
			for i := 0; i < dzs[0]; i++ {
				s += kernels.Sum(dz[(i*g.outC+c)*p : (i*g.outC+c+1)*p])
			}
			db[c] = s
		}
	})
	return out, nil
}

// ---------------------------------------------------------------------------
// convDXOp: dx_i = col2im(wᵀ · dz_i), shaped like x.

type convDXOp struct {
	geo     convGeom
	out     *tensor.Dense
	scratch []convScratch
	wt      kernels.SharedA // wᵀ, packed once a call for every image's product
}

func (op *convDXOp) Arity() int { return 2 }
func (op *convDXOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *convDXOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkArity("conv input gradient", 2, len(in)); err != nil {
		return nil, err
	}
	s, ok := in[1].(tensor.Shape)
	if !ok || s.Dims() != 4 {
		return nil, fmt.Errorf("conv input gradient: want an NCHW gradient shape, got %v", in[1])
	}
	return tensor.Shape{s[0], op.geo.inC, op.geo.h, op.geo.w}, nil
}
func (op *convDXOp) ReturnsPtr() bool      { return false }
func (op *convDXOp) CallsExtern() bool     { return false }
func (op *convDXOp) OverwritesInput() int  { return -1 }
func (op *convDXOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *convDXOp) Hashcode() uint32      { return hashOf(op) }
func (op *convDXOp) String() string        { return fmt.Sprintf("ConvDX{%v}", op.geo) }
func (op *convDXOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("conv input gradient", 2, len(in)); err != nil {
		return nil, err
	}
	g := op.geo
	w, wsh, err := f32s(in[0], "conv input gradient weight w")
	if err != nil {
		return nil, err
	}
	if err := g.checkW(wsh, "conv input gradient weight w"); err != nil {
		return nil, err
	}
	dz, dzs, err := f32s(in[1], "conv input gradient incoming grad")
	if err != nil {
		return nil, err
	}
	if err := g.checkDZ(dzs, "conv input gradient incoming grad"); err != nil {
		return nil, err
	}
	n := dzs[0]
	out := ownBuf(&op.out, n, g.inC, g.h, g.w)
	dx := out.Float32s()
	ckk, p, outSz, inSz := g.ckk(), g.plane(), g.outSize(), g.inSize()
	if !g.direct() {
		op.wt.Pack(true, ckk, g.outC, w, ckk)
	}
	forImages(&op.scratch, n, n*ckk*p*2, func(s *convScratch, lo, hi int) {
		if g.direct() {
			s.col = grow(s.col, g.k*p)
			for i := lo; i < hi; i++ {
				dxi := dx[i*inSz : (i+1)*inSz]
				clear(dxi)
				g.directBackward(nil, dz[i*outSz:(i+1)*outSz], w, dxi, nil, s.col)
			}
			return
		}
		s.col = grow(s.col, ckk*p)
		s.pad = grow(s.pad, g.padSize())
		for i := lo; i < hi; i++ {
			kernels.SgemmShared(&op.wt, false, p, dz[i*outSz:(i+1)*outSz], p, 0, s.col, p, &s.ws)
			g.col2im(s.col, dx[i*inSz:(i+1)*inSz], s.pad)
		}
	})
	return out, nil
}
