package models_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
)

// One loaded model scored from 32 goroutines at once (a server's request
// handlers): every goroutine builds its own graph over the shared
// parameters. Under `go test -race` this checks Params' node cache and the
// parameter tensors the tape machines touch; every output must equal a
// single-goroutine run.
func TestReconstructConcurrent(t *testing.T) {
	const goroutines, n = 32, 5
	for _, kind := range []string{"deep", "conv", "vae"} {
		t.Run(kind, func(t *testing.T) {
			m := tiny(t, kind)
			dim := m.Spec().InputDim()
			inputs := make([][]float32, goroutines)
			want := make([][]float32, goroutines)
			for i := range inputs {
				x := batchOf(n+i, dim)[i*dim:]
				inputs[i] = x
				y, err := models.Reconstruct(m, x, n)
				require.NoError(t, err)
				want[i] = y
			}
			got := make([][]float32, goroutines)
			errs := make([]error, goroutines)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got[i], errs[i] = models.Reconstruct(m, inputs[i], n)
				}()
			}
			close(start)
			wg.Wait()
			for i := range goroutines {
				require.NoError(t, errs[i], "goroutine %d", i)
				require.Equal(t, want[i], got[i], fmt.Sprintf("goroutine %d", i))
			}
		})
	}
}
