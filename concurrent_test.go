package hourglass_test

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
)

// TestConcurrentScoring scores one loaded model from 32 goroutines (run it
// with -race) and expects every result to equal a lone goroutine's.
func TestConcurrentScoring(t *testing.T) {
	_, path, test := trained(t)
	m, err := hourglass.Load(path)
	require.NoError(t, err)
	defer m.Close()
	dim := m.InputDim()
	want, err := m.Score(test.X)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				// Goroutines ask for different row counts so both pools are used.
				lo := (g + i) % test.N
				hi := min(test.N, lo+1+(g*7+i)%40)
				got, err := m.Score(test.X[lo*dim : hi*dim])
				if err != nil {
					errs <- err
					return
				}
				for j, s := range got {
					if math.Abs(s-want[lo+j]) > 1e-9 {
						t.Errorf("goroutine %d: row %d scored %v, alone %v", g, lo+j, s, want[lo+j])
						return
					}
				}
				if _, err := m.Encode(test.X[lo*dim : hi*dim]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
