package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ParallelMinWork is the element count below which splitting a pass across
// goroutines costs more than it saves (~1 µs per hand-off to a spinning
// worker).
const ParallelMinWork = 1 << 15

// maxWorkers caps the goroutines one call uses.
const maxWorkers = 8

// ParallelFor splits [0, n) into contiguous chunks across up to GOMAXPROCS
// goroutines when work (elements touched) is large enough, else runs inline.
// Chunk boundaries depend only on n and GOMAXPROCS, so a result never
// depends on which goroutine ran which chunk.
func ParallelFor(n, work int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n, maxWorkers)
	if work < ParallelMinWork || workers < 2 {
		fn(0, n)
		return
	}
	per := (n + workers - 1) / workers
	chunks := (n + per - 1) / per
	parallelChunks(chunks, func(i int) { fn(i*per, min((i+1)*per, n)) })
}

// parallelChunks runs fn(0) … fn(chunks-1), on the process's worker pool
// when it is free and inline otherwise (a nested or concurrent call). The
// callers chose chunks from GOMAXPROCS already: it is not read again here
// (runtime.GOMAXPROCS takes the scheduler's lock).
func parallelChunks(chunks int, fn func(i int)) {
	if chunks < 2 || !workPool.mu.TryLock() {
		for i := range chunks {
			fn(i)
		}
		return
	}
	defer workPool.mu.Unlock()
	workPool.run(chunks, fn)
}

// workPool is the one piece of process-wide state in this package: the
// goroutines that run the other chunks of a parallel call. They stay awake,
// spinning, for spinFor after their last chunk and only then park. A parked
// goroutine on the virtual machines this runs on takes 100–200 µs to wake
// (measured: `go` of a goroutine while the other core idles), as long as half
// of a mid-size GEMM takes to compute, so a pool that parks at once — or a
// fresh goroutine per call, as before — ran the deep and VAE models' products
// on one core. A caller never waits for a worker to wake: it claims chunks
// itself from the same counter, so a late worker finds nothing left to do.
var workPool pool

type pool struct {
	mu      sync.Mutex // held by the caller of the one call in flight
	once    sync.Once
	job     atomic.Pointer[job]
	workers []*worker
}

type worker struct {
	sleeping atomic.Bool
	wake     chan struct{} // one token wakes a parked worker
}

// job is one parallel call: chunks claimed through next, counted in done.
type job struct {
	fn     func(i int)
	chunks int32
	next   atomic.Int32
	done   atomic.Int32
}

func (p *pool) start() {
	n := min(runtime.NumCPU(), maxWorkers) - 1
	p.workers = make([]*worker, n)
	for i := range p.workers {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers[i] = w
		go p.loop(w)
	}
}

func (p *pool) run(chunks int, fn func(i int)) {
	p.once.Do(p.start)
	j := &job{fn: fn, chunks: int32(chunks)}
	p.job.Store(j)
	for _, w := range p.workers[:min(chunks-1, len(p.workers))] {
		if w.sleeping.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	j.work()
	for spins := 0; j.done.Load() < j.chunks; spins++ {
		if spins%1024 == 1023 {
			runtime.Gosched()
		}
	}
	p.job.Store(nil)
}

// pending is the call in flight if it has chunks left to claim, else nil.
func (p *pool) pending() *job {
	if j := p.job.Load(); j != nil && j.next.Load() < j.chunks {
		return j
	}
	return nil
}

// work claims and runs chunks until none is left.
func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.chunks {
			return
		}
		j.fn(int(i))
		j.done.Add(1)
	}
}

func (p *pool) loop(w *worker) {
	idle := time.Now()
	yields := 0
	for {
		if j := p.pending(); j != nil {
			j.work()
			idle = time.Now()
			continue
		}
		// Look again for a while before the clock and the scheduler are
		// consulted: both take locks the caller's goroutine needs too.
		found := false
		for i := 0; i < 1024 && !found; i++ {
			found = p.pending() != nil
		}
		if found {
			continue
		}
		if time.Since(idle) < spinFor {
			// Yield only now and then: a yield lets a goroutine waking on
			// this core take it over while this worker waits in the global
			// queue for the other, parked core (100–200 µs); never yielding
			// kept the collector's workers off this core and slowed
			// training.
			if yields++; yields%32 == 0 {
				runtime.Gosched()
			}
			continue
		}
		// Park. Publishing sleeping before the last look at the job means a
		// caller either sees the flag and sends a token, or this look sees
		// its job.
		w.sleeping.Store(true)
		if p.pending() != nil {
			w.sleeping.Store(false)
			continue
		}
		<-w.wake
		w.sleeping.Store(false)
		idle = time.Now()
	}
}

// Copy copies src into dst (min of the lengths) on the worker pool when it
// is long enough: a batch of 1,024 images moved in or out of a graph is 3
// MB, which one core copies at about half the rate two do.
func Copy(dst, src []float32) {
	n := min(len(dst), len(src))
	ParallelFor(n, n, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}

// Clear zeroes dst, on every core when it is large (a training step clears
// every gradient buffer, a pass the other core would otherwise wait out).
func Clear(dst []float32) {
	if len(dst) < ParallelMinWork {
		clear(dst)
		return
	}
	ParallelFor(len(dst), len(dst), func(lo, hi int) { clear(dst[lo:hi]) })
}
