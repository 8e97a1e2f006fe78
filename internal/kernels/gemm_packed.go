//go:build !openblas

package kernels

import (
	"runtime"
)

// GEMM driver around an MR×NR register-tile micro-kernel (assembly on amd64).
// B is always packed into contiguous NR-wide panels: read in place, a panel
// of a matrix whose row stride is a power of two maps onto a handful of L1
// sets and thrashes. A is read in place through strides (row-major or
// transposed) except a ragged last row panel, and a transposed A whose
// stride would alias the same way; those are packed. Without k-blocking for
// k ≤ gemmKC a B panel (≤ 128 KiB) is reused from L2 across all row panels.
// Column panels are split across goroutines, each packing its own B panels,
// so one fork-join covers a whole call.

// gemmKC caps the depth of one block (B panel 32·KC floats).
const gemmKC = 1024

// maxTile bounds MR·NR over all kernels, for the stack edge tile.
const maxTile = 8 * 32

// gemmKernel is an MR×NR micro-kernel: fn adds A·B (k deep) into C (row
// stride ldc), or overwrites C when acc is 0, A's element (r, p) at
// a[r*rs + p*ps], B's row p at b[p*bs:].
type gemmKernel struct {
	name   string
	mr, nr int
	fn     func(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, acc int)
}

// Scratch holds packing buffers reused across calls by one op.
type Scratch struct {
	a, b []float32
	// tile holds each worker's edge tile (maxTile floats a worker), and
	// blk the call's block state: in the Scratch rather than on the stack
	// they do not escape to the heap on every call (a tile passed to the
	// kernel through a function value does), which kept conv scoring's heap
	// growing by 1 KiB per product.
	tile []float32
	blk  gemmBlock
}

func (ws *Scratch) grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// sgemmPacked is the packed GEMM; pre, when not nil, holds all of op(A)
// packed already (SharedA's layout), so A is neither packed nor read.
func sgemmPacked(kern *gemmKernel, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *Scratch, pre []float32) {
	if ws == nil {
		ws = &Scratch{}
	}
	defer func() { ws.blk = gemmBlock{} }() // keep no reference to the caller's matrices
	// beta = 0: the first block overwrites C, so C is never cleared or read.
	if beta != 1 && beta != 0 {
		scaleRows(m, n, beta, c, ldc)
	}
	mr, nr := kern.mr, kern.nr
	mPanels := (m + mr - 1) / mr
	nPanels := (n + nr - 1) / nr
	workers := runtime.GOMAXPROCS(0)
	if 2*m*n*k < 1<<21 {
		workers = 1
	}
	workers = min(workers, 8)
	tiles := ws.grow(&ws.tile, workers*maxTile)
	// A transposed with a stride that is an even number of cache lines
	// (a multiple of 32 floats) aliases in L1 and is packed; an odd number
	// (784, 400: 16 floats times an odd number) spreads its rows over every
	// set and is read in place like such a B, which saved the packing of
	// every first-layer weight gradient xᵀ·dz (deep step 12-16%).
	packAllA := transA && lda%32 == 0
	// B not transposed whose rows lie an odd number of cache lines apart
	// (a row stride of 16 floats times an odd number, as 400 and 784) maps a
	// panel's rows onto every L1 set: the kernel reads its full panels in
	// place, which saves the packing pass over B (a tenth of a VAE step).
	directB := !transB && ldb%32 == 16
	for p0 := 0; p0 < k; p0 += gemmKC {
		kb := min(gemmKC, k-p0)
		g := &ws.blk
		*g = gemmBlock{kern: kern, m: m, n: n, kb: kb, p0: p0, transA: transA, transB: transB,
			a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, acc: 1, bDirect: directB}
		if beta == 0 && p0 == 0 {
			g.acc = 0
		}
		g.bp = ws.grow(&ws.b, nPanels*kb*nr)
		switch {
		case pre != nil:
			g.ap = pre[mPanels*mr*p0 : mPanels*mr*(p0+kb)]
			g.apAll = true
		case packAllA:
			g.ap = ws.grow(&ws.a, mPanels*kb*mr)
			g.apAll = true
			if workers > 1 && mPanels >= 2*workers {
				// Packing every panel is a tenth of a weight-gradient
				// product: split it too.
				per := (mPanels + workers - 1) / workers
				parallelChunks((mPanels+per-1)/per, func(w int) { g.packA(w*per, min((w+1)*per, mPanels)) })
			} else {
				g.packA(0, mPanels)
			}
		case m%mr != 0:
			g.ap = ws.grow(&ws.a, kb*mr)
			packA(mr, transA, a, lda, m, p0, kb, mPanels-1, g.ap)
		}
		if workers == 1 || (nPanels < workers && mPanels < 2*workers) {
			g.packB(0, nPanels)
			g.tiles(0, mPanels, 0, nPanels, tiles)
			continue
		}
		if nPanels >= workers {
			// Split column panels: each chunk packs and uses only its own.
			per := (nPanels + workers - 1) / workers
			parallelChunks((nPanels+per-1)/per, func(w int) {
				lo, hi := w*per, min((w+1)*per, nPanels)
				g.packB(lo, hi)
				g.tiles(0, mPanels, lo, hi, tiles[w*maxTile:(w+1)*maxTile])
			})
			continue
		}
		// Few, narrow column panels: pack B once, split row panels.
		g.packB(0, nPanels)
		per := (mPanels + workers - 1) / workers
		parallelChunks((mPanels+per-1)/per, func(w int) {
			g.tiles(w*per, min((w+1)*per, mPanels), 0, nPanels, tiles[w*maxTile:(w+1)*maxTile])
		})
	}
}

// gemmBlock is one kb-deep slice of a GEMM call.
type gemmBlock struct {
	kern           *gemmKernel
	m, n, kb, p0   int
	transA, transB bool
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	acc            int       // 0: overwrite C (first block of a beta = 0 call)
	bp             []float32 // packed B panels
	ap             []float32 // packed A: every panel if apAll, else the ragged last one
	apAll          bool
	bDirect        bool // full column panels of B are read in place (see sgemmPacked)
}

func (g *gemmBlock) packA(lo, hi int) {
	mr, kb := g.kern.mr, g.kb
	for ip := lo; ip < hi; ip++ {
		packA(mr, g.transA, g.a, g.lda, g.m, g.p0, kb, ip, g.ap[ip*kb*mr:])
	}
}

func (g *gemmBlock) packB(lo, hi int) {
	nr, kb := g.kern.nr, g.kb
	for jp := lo; jp < hi; jp++ {
		if g.bDirect && jp*nr+nr <= g.n {
			continue
		}
		packB(nr, g.transB, g.b, g.ldb, g.n, g.p0, kb, jp, g.bp[jp*kb*nr:])
	}
}

// tiles runs the kernel over row panels [ilo, ihi) × column panels
// [jlo, jhi), with tile (maxTile floats, this worker's own) for edge tiles.
func (g *gemmBlock) tiles(ilo, ihi, jlo, jhi int, tile []float32) {
	mr, nr, kb := g.kern.mr, g.kern.nr, g.kb
	mPanels := (g.m + mr - 1) / mr
	tile = tile[:maxTile]
	for jp := jlo; jp < jhi; jp++ {
		j0 := jp * nr
		cols := min(nr, g.n-j0)
		bptr, bs := &g.bp[jp*kb*nr], nr
		if g.bDirect && cols == nr {
			bptr, bs = &g.b[g.p0*g.ldb+j0], g.ldb
		}
		for ip := ilo; ip < ihi; ip++ {
			i0 := ip * mr
			rows := min(mr, g.m-i0)
			var aptr *float32
			rs, ps := 1, mr
			switch {
			case g.apAll:
				aptr = &g.ap[ip*kb*mr]
			case ip == mPanels-1 && rows < mr:
				aptr = &g.ap[0]
			case g.transA:
				aptr, rs, ps = &g.a[g.p0*g.lda+i0], 1, g.lda
			default:
				aptr, rs, ps = &g.a[i0*g.lda+g.p0], g.lda, 1
			}
			if rows == mr && cols == nr {
				g.kern.fn(kb, aptr, rs, ps, bptr, bs, &g.c[i0*g.ldc+j0], g.ldc, g.acc)
				continue
			}
			g.kern.fn(kb, aptr, rs, ps, bptr, bs, &tile[0], nr, 0)
			for r := 0; r < rows; r++ {
				dst := g.c[(i0+r)*g.ldc+j0 : (i0+r)*g.ldc+j0+cols]
				if g.acc == 0 {
					copy(dst, tile[r*nr:r*nr+cols])
					continue
				}
				for j := range dst {
					dst[j] += tile[r*nr+j]
				}
			}
		}
	}
}

// packA writes row panel ip of op(A)[:, p0:p0+kb] as dst[p*mr + r], zero-padded past m.
func packA(mr int, trans bool, a []float32, lda, m, p0, kb, ip int, dst []float32) {
	d := dst[:kb*mr]
	i0 := ip * mr
	rows := min(mr, m-i0)
	if trans {
		if rows == 8 && mr == 8 {
			// A fixed-size copy is two vector moves; copy() of 32 bytes
			// is a runtime.memmove call per row.
			for p := 0; p < kb; p++ {
				*(*[8]float32)(d[p*8:]) = *(*[8]float32)(a[(p0+p)*lda+i0:])
			}
			return
		}
		for p := 0; p < kb; p++ {
			dp := d[p*mr : p*mr+mr]
			copy(dp, a[(p0+p)*lda+i0:(p0+p)*lda+i0+rows])
			clear(dp[rows:])
		}
		return
	}
	clear(d)
	for r := 0; r < rows; r++ {
		src := a[(i0+r)*lda+p0 : (i0+r)*lda+p0+kb]
		for p, v := range src {
			d[p*mr+r] = v
		}
	}
}

// packB writes column panel jp of op(B)[p0:p0+kb, :] as dst[p*nr + c], zero-padded past n.
func packB(nr int, trans bool, b []float32, ldb, n, p0, kb, jp int, dst []float32) {
	d := dst[:kb*nr]
	j0 := jp * nr
	cols := min(nr, n-j0)
	if !trans {
		if cols == 32 && nr == 32 {
			for p := 0; p < kb; p++ {
				*(*[32]float32)(d[p*32:]) = *(*[32]float32)(b[(p0+p)*ldb+j0:])
			}
			return
		}
		for p := 0; p < kb; p++ {
			dp := d[p*nr : p*nr+nr]
			copy(dp, b[(p0+p)*ldb+j0:(p0+p)*ldb+j0+cols])
			clear(dp[cols:])
		}
		return
	}
	// op(B) = Bᵀ: the panel is a transpose of cols rows of b. Four rows at
	// a time make each write four adjacent floats and let the compiler drop
	// the bounds checks of the reads (a column at a time, this was 7% of a
	// VAE training step).
	c := 0
	for ; c+4 <= cols; c += 4 {
		s0 := b[(j0+c)*ldb+p0:][:kb]
		s1 := b[(j0+c+1)*ldb+p0:][:len(s0)]
		s2 := b[(j0+c+2)*ldb+p0:][:len(s0)]
		s3 := b[(j0+c+3)*ldb+p0:][:len(s0)]
		for p := range s0 {
			q := d[p*nr+c:][:4]
			q[0], q[1], q[2], q[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; c < cols; c++ {
		src := b[(j0+c)*ldb+p0 : (j0+c)*ldb+p0+kb]
		for p, v := range src {
			d[p*nr+c] = v
		}
	}
	if cols < nr {
		for p := 0; p < kb; p++ {
			clear(d[p*nr+cols : p*nr+nr])
		}
	}
}
