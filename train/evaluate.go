package train

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/models"
)

// Evaluate is the model's objective averaged over every sample of d, without
// updating anything. Noise the objective draws (corruption, VAE samples) comes
// from seed, so the figure is reproducible. A last partial batch gets a graph
// of its own so that no sample is dropped or counted twice.
func Evaluate(m models.Model, d *dataset.Dataset, batch int, seed uint64) (loss float64, parts map[string]float64, err error) {
	return evaluate(m, d, batch, seed, device.DefaultDevice())
}

func evaluate(m models.Model, d *dataset.Dataset, batch int, seed uint64, dev device.Device) (loss float64, parts map[string]float64, err error) {
	if d == nil || d.N == 0 {
		return math.NaN(), nil, nil
	}
	if d.Dim() != m.Spec().InputDim() {
		return 0, nil, fmt.Errorf("data %s has %d values per sample but model expects %d", d.Name, d.Dim(), m.Spec().InputDim())
	}
	batch = min(batch, d.N)
	full := d.N / batch
	sums := map[string]float64{}
	var total float64
	run := func(size, first, count int) error {
		g := G.NewGraph()
		defer m.Params().Forget(g)
		obj, err := m.Objective(g, size)
		if err != nil {
			return err
		}
		var lossV G.Value
		G.Read(obj.Loss, &lossV)
		partV := make([]G.Value, len(obj.Parts))
		for i, p := range obj.Parts {
			G.Read(p.Node, &partV[i])
		}
		vm, err := device.NewMachine(g, dev)
		if err != nil {
			return err
		}
		defer vm.Close()
		dim := d.Dim()
		for b := 0; b < count; b++ {
			lo := (first + b*size) * dim
			obj.Feed(d.X[lo:lo+size*dim], stepRNG(seed^0x5eed, first+b*size))
			if err := vm.RunAll(); err != nil {
				return err
			}
			total += scalar(lossV) * float64(size)
			for i, p := range obj.Parts {
				sums[p.Name] += scalar(partV[i]) * float64(size)
			}
			vm.Reset()
		}
		return nil
	}
	if err := run(batch, 0, full); err != nil {
		return 0, nil, err
	}
	if rest := d.N - full*batch; rest > 0 {
		if err := run(rest, full*batch, 1); err != nil {
			return 0, nil, err
		}
	}
	for k := range sums {
		sums[k] /= float64(d.N)
	}
	if len(sums) == 0 {
		sums = nil
	}
	return total / float64(d.N), sums, nil
}
