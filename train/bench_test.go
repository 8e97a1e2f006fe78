package train

import (
	"math/rand/v2"
	"testing"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/models"
)

// The hot pieces of a training epoch, one at a time (scripts/bench.sh times
// whole epochs beside PyTorch):
//
//	go test -run XXX -bench . ./train/
//
// BenchmarkStep is one optimizer step of each kind at the batch size
// scripts/bench.sh trains it with: feed, forward, backward, Adam.
func BenchmarkStep(b *testing.B) {
	splits, err := dataset.Load("sample")
	if err != nil {
		b.Fatal(err)
	}
	d := splits.Train
	for _, tc := range []struct {
		kind  string
		batch int
	}{{"basic", 256}, {"deep", 256}, {"denoising", 256}, {"sparse", 256}, {"vae", 128}, {"conv", 128}, {"convvae", 128}} {
		b.Run(tc.kind, func(b *testing.B) {
			spec, err := models.DefaultSpec(tc.kind, []int{d.C, d.H, d.W}, 0)
			if err != nil {
				b.Fatal(err)
			}
			m, err := models.New(spec)
			if err != nil {
				b.Fatal(err)
			}
			s, err := newStepper(m, tc.batch, device.CPU)
			if err != nil {
				b.Fatal(err)
			}
			defer s.close()
			opt, params := NewAdam(), m.Params().List()
			x := d.X[:tc.batch*d.Dim()]
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.run(x, rng); err != nil {
					b.Fatal(err)
				}
				grads, err := s.grads()
				if err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(params, grads, 1e-3); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tc.batch*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkOptimizerStep is one update of the deep model's 219k parameters
// by each optimizer.
func BenchmarkOptimizerStep(b *testing.B) {
	spec, err := models.DefaultSpec("deep", []int{1, 28, 28}, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range Optimizers() {
		b.Run(name, func(b *testing.B) {
			m, err := models.New(spec)
			if err != nil {
				b.Fatal(err)
			}
			opt, err := NewOptimizer(OptimConfig{Name: name})
			if err != nil {
				b.Fatal(err)
			}
			params := m.Params().List()
			rng := rand.New(rand.NewPCG(3, 4))
			grads := make([][]float32, len(params))
			n := 0
			for i, p := range params {
				grads[i] = make([]float32, p.Size())
				for j := range grads[i] {
					grads[i][j] = float32(rng.NormFloat64() * 1e-3)
				}
				n += p.Size()
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := opt.Step(params, grads, 1e-3); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds()/1e6, "Mparams/s")
		})
	}
}
