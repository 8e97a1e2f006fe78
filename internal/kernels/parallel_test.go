package kernels

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill writes i+1 into every element through ParallelFor and reports the
// chunks it ran, so a test can check coverage and the chunk boundaries.
func fill(n, work int) ([]int, [][2]int) {
	out := make([]int, n)
	var mu sync.Mutex
	var chunks [][2]int
	ParallelFor(n, work, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] += i + 1
		}
		mu.Lock()
		chunks = append(chunks, [2]int{lo, hi})
		mu.Unlock()
	})
	return out, chunks
}

func TestParallelForCoversEveryIndexOnce(t *testing.T) {
	cases := []struct {
		name     string
		n, work  int
		parallel bool
	}{
		{"small work runs inline", 1000, 10, false},
		{"one element", 1, 1 << 20, false},
		{"large work splits", 1000, 1 << 20, true},
		{"odd length", 1001, 1 << 20, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, chunks := fill(c.n, c.work)
			for i, v := range out {
				require.Equal(t, i+1, v, "index %d", i)
			}
			if c.parallel && runtime.GOMAXPROCS(0) > 1 {
				assert.Greater(t, len(chunks), 1)
			} else {
				assert.Equal(t, [][2]int{{0, c.n}}, chunks)
			}
		})
	}
}

// Many goroutines at once, some nesting a parallel call inside a chunk: one
// call holds the pool, the others run inline, and every result is whole.
func TestParallelForConcurrentAndNested(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 50 {
				n := 500 + g*37 + r
				sums := make([]int, n)
				ParallelFor(n, 1<<20, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						inner, _ := fill(8, 1<<20)
						sums[i] = inner[7] + i
					}
				})
				for i, v := range sums {
					if v != 8+i {
						errs <- "wrong sum"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// A parked worker is woken by the next call; with GOMAXPROCS 1 everything
// runs inline.
func TestParallelForAfterWorkersPark(t *testing.T) {
	out, _ := fill(4096, 1<<20)
	require.Equal(t, 4096, out[4095])
	time.Sleep(3 * spinFor) // the workers park
	out, _ = fill(4096, 1<<20)
	assert.Equal(t, 4096, out[4095])
	assert.Equal(t, 1, out[0])

	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	out, chunks := fill(4096, 1<<20)
	assert.Equal(t, [][2]int{{0, 4096}}, chunks)
	assert.Equal(t, 2048, out[2047])
}

// spinWork busies the calling goroutine for d, as a chunk of a product would.
func spinWork(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// BenchmarkHandoff is the measurement behind the worker pool: two 50 µs
// chunks after the other core has idled for 200 µs, through ParallelFor
// (the pool) and through a fresh goroutine per call (what the GEMM and
// ParallelFor did before). 50 µs an op means both cores worked; 100 µs
// means the second chunk waited for the first. On the 2-core VM of
// docs/performance.md the goroutine took about 100 µs.
//
//	go test -bench Handoff -run XXX ./internal/kernels/
func BenchmarkHandoff(b *testing.B) {
	const chunk = 50 * time.Microsecond
	run := map[string]func(){
		"pool": func() { ParallelFor(2, 1<<20, func(lo, hi int) { spinWork(chunk) }) },
		"goroutine": func() {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); spinWork(chunk) }()
			spinWork(chunk)
			wg.Wait()
		},
	}
	for _, name := range []string{"pool", "goroutine"} {
		b.Run(name, func(b *testing.B) {
			// Timed by hand: b.StopTimer and b.StartTimer stop the world
			// to read memory statistics, which deschedules a spinning worker.
			var total time.Duration
			for range b.N {
				time.Sleep(200 * time.Microsecond)
				start := time.Now()
				run[name]()
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/call")
		})
	}
}

// TestClearAndCopy: both touch exactly their slice, below and above the
// size where they split across the pool.
func TestClearAndCopy(t *testing.T) {
	for _, n := range []int{0, 7, ParallelMinWork - 1, ParallelMinWork, 3*ParallelMinWork + 5} {
		buf := make([]float32, n+2)
		for i := range buf {
			buf[i] = float32(i + 1)
		}
		src := append([]float32(nil), buf...)
		Clear(buf[1 : n+1])
		assert.Equal(t, float32(1), buf[0], "n=%d: before the slice", n)
		assert.Equal(t, float32(n+2), buf[n+1], "n=%d: after the slice", n)
		for i := 1; i <= n; i++ {
			require.Zero(t, buf[i], "n=%d, index %d", n, i)
		}
		Copy(buf[1:n+1], src[1:n+1])
		assert.Equal(t, src, buf, "n=%d: Copy restores the slice", n)
	}
}
