package kernels

import (
	"runtime"
	"sync"
)

// ParallelMinWork is the element count below which splitting a pass across
// goroutines costs more than it saves (~1 µs per goroutine hand-off).
const ParallelMinWork = 1 << 15

// ParallelFor splits [0, n) into contiguous chunks across up to GOMAXPROCS
// goroutines when work (elements touched) is large enough, else runs inline.
func ParallelFor(n, work int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if work < ParallelMinWork || workers < 2 || n < 2 {
		fn(0, n)
		return
	}
	workers = min(workers, n, 8)
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := per; lo < n; lo += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+per, n))
	}
	fn(0, min(per, n))
	wg.Wait()
}
