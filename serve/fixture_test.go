package serve

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/train"
)

// Fixture models, trained once per test binary (a few hundred ms each).
const dim = 8

var (
	fixOnce sync.Once
	fix     fixtures
	fixErr  error
)

type fixtures struct {
	dir string
	// deep and other (another seed and kind) take the same 8 features;
	// plain has no threshold and no scaler; wide takes 12.
	deep, other, plain, wide string
	// rows are test rows (raw units, features of different ranges).
	rows []float32
}

// table returns n synthetic rows of width w: four latent factors mixed
// into correlated features of different scales, plus noise.
func table(n, w int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, 0, n*w)
	for range n {
		a, b := r.NormFloat64(), r.NormFloat64()
		for j := range w {
			v := float64(j+1)*a + math.Sin(float64(j))*b + 0.05*r.NormFloat64()
			x = append(x, float32(v*math.Pow(10, float64(j%3))))
		}
	}
	return x
}

func trainFixture(dir, name string, w int, cfg hourglass.Config) (string, error) {
	d, err := hourglass.NewDataset(name, table(512, w, 1), w)
	if err != nil {
		return "", err
	}
	cfg.Epochs, cfg.Batch, cfg.Latent = 3, 64, 3
	if cfg.Kind != "vae" {
		cfg.Hidden = []int{16}
	}
	m, _, err := hourglass.Train(context.Background(), d, cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".safetensors")
	return path, m.Save(path)
}

func getFixtures(t *testing.T) fixtures {
	t.Helper()
	fixOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			fixErr = err
			return
		}
		fix = fixtures{dir: dir, rows: table(300, dim, 99)}
		if fix.deep, fixErr = trainFixture(dir, "deep", dim, hourglass.Config{Kind: "deep", Seed: 1}); fixErr != nil {
			return
		}
		if fix.other, fixErr = trainFixture(dir, "other", dim, hourglass.Config{Kind: "vae", Seed: 2, Scale: "standard"}); fixErr != nil {
			return
		}
		if fix.wide, fixErr = trainFixture(dir, "wide", 12, hourglass.Config{Kind: "basic", Seed: 3}); fixErr != nil {
			return
		}
		// plain: deep without its threshold or scaler (it takes raw values).
		var l *train.Loaded
		if l, fixErr = train.LoadCheckpoint(fix.deep); fixErr != nil {
			return
		}
		delete(l.Meta, train.MetaThreshold)
		delete(l.Meta, train.MetaScaler)
		fix.plain = filepath.Join(dir, "plain.safetensors")
		fixErr = train.SaveModel(fix.plain, l.Model, l.Meta)
	})
	require.NoError(t, fixErr)
	return fix
}

// dtoHistogram reads a model's batch-size histogram from the registry.
type dtoHistogram struct {
	count uint64
	sum   float64
}

func (h *dtoHistogram) read(s *Server, model string) error {
	mfs, err := s.metrics.reg.Gather()
	if err != nil {
		return err
	}
	for _, mf := range mfs {
		if mf.GetName() != "hourglass_serve_batch_rows" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "model" && l.GetValue() == model {
					h.count, h.sum = m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
					return nil
				}
			}
		}
	}
	return fmt.Errorf("no batch histogram for model %s", model)
}
