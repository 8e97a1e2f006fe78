package kernels

import (
	"fmt"
	"testing"
)

// The deep autoencoder's largest products at batch 256: forward x·W1,
// backward dW1 = xᵀ·dz and dX6 = dz·W6ᵀ. Reports GFLOP/s of the build's backend.
var benchShapes = []struct {
	name     string
	tA, tB   bool
	m, n, k  int
	lda, ldb int
}{
	{"fwd_256x128x784", false, false, 256, 128, 784, 784, 128},
	{"dW_784x128x256_TN", true, false, 784, 128, 256, 784, 128},
	{"dX_256x784x128_NT", false, true, 256, 784, 128, 128, 128},
	{"fwd_256x784x128", false, false, 256, 784, 128, 128, 784},
	{"small_256x32x64", false, false, 256, 32, 64, 64, 32},
	// The VAE's at batch 128: decoder forward h·W4, its dX = dz·W4ᵀ and dW4 = hᵀ·dz.
	{"vae_fwd_128x784x400", false, false, 128, 784, 400, 400, 784},
	{"vae_dX_128x400x784_NT", false, true, 128, 400, 784, 784, 784},
	{"vae_dW_400x784x128_TN", true, false, 400, 784, 128, 400, 784},
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("%s/%s", BLASBackend(), s.name), func(b *testing.B) {
			a := make([]float32, s.m*s.k+s.k*s.m)
			bb := make([]float32, s.k*s.n+s.n*s.k)
			c := make([]float32, s.m*s.n)
			for i := range a {
				a[i] = float32(i%7) * 0.1
			}
			for i := range bb {
				bb[i] = float32(i%5) * 0.1
			}
			var ws Scratch
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Sgemm(s.tA, s.tB, s.m, s.n, s.k, a, s.lda, bb, s.ldb, 0, c, s.n, &ws)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
