package hourglass_test

import (
	"context"
	"testing"

	"github.com/hourglass-ml/hourglass"
)

// BenchmarkScore scores batches of 64 test images with one loaded model
// from b.RunParallel's goroutines: run with -cpu 1,2 to see throughput
// grow with cores (rows/s is reported).
func BenchmarkScore(b *testing.B) {
	tr, test, err := hourglass.LoadData("sample")
	if err != nil {
		b.Fatal(err)
	}
	m, _, err := hourglass.Train(context.Background(), tr.Head(256), hourglass.Config{Epochs: 1})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 64
	x := test.X[:rows*m.InputDim()]
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Score(x); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}
