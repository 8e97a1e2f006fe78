package apps

import (
	"fmt"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/models"
)

// FeatureOptions controls Features.
type FeatureOptions struct {
	// K is the k of the k-nearest-neighbour classifier (5 if 0).
	K int
	// KNNTrain, when positive, caps the training samples the classifier
	// searches (a seeded random subset), to bound the cost on raw pixels.
	KNNTrain int
	// ScatterPoints caps the points drawn in latent.png (2000 if 0).
	ScatterPoints int
	Seed          uint64
}

// Features writes the codes of every training and test sample (.npy and
// .csv, with labels), draws latent.png (codes in 2-D, by PCA when wider,
// coloured by label) and, with labels, compares k-NN test accuracy on codes,
// on PCA features of the same size and on raw inputs.
func Features(m models.Model, train, test *dataset.Dataset, opt FeatureOptions, out string) (*Result, error) {
	for _, d := range []*dataset.Dataset{train, test} {
		if err := CheckShape(m, d); err != nil {
			return nil, err
		}
	}
	if opt.K == 0 {
		opt.K = 5
	}
	if opt.K < 0 || opt.KNNTrain < 0 {
		return nil, fmt.Errorf("kNN: k=%d and training cap %d must not be negative", opt.K, opt.KNNTrain)
	}
	if opt.ScatterPoints <= 0 {
		opt.ScatterPoints = 2000
	}
	if err := ensureDir(out); err != nil {
		return nil, err
	}
	k := m.Spec().Latent
	r := newResult("features")
	r.Figures["latent"] = float64(k)
	codes := map[string][]float32{}
	for _, p := range []struct {
		name string
		d    *dataset.Dataset
	}{{"train", train}, {"test", test}} {
		z, err := models.Encode(m, p.d.X, p.d.N)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", p.d.Name, err)
		}
		codes[p.name] = z
		npy, csv := "features_"+p.name+".npy", "features_"+p.name+".csv"
		if err := eval.WriteNPY(join(out, npy), z, []int{p.d.N, k}); err != nil {
			return nil, err
		}
		if err := eval.WriteFeaturesCSV(join(out, csv), z, p.d.N, k, p.d.Labels); err != nil {
			return nil, err
		}
		r.file(npy)
		r.file(csv)
		if p.d.Labels != nil {
			name := "labels_" + p.name + ".npy"
			if err := eval.WriteLabelsNPY(join(out, name), p.d.Labels); err != nil {
				return nil, err
			}
			r.file(name)
		}
	}

	// latent.png: the first test points, in 2-D.
	n := min(test.N, opt.ScatterPoints)
	xy := make([]float32, 2*n)
	title := fmt.Sprintf("%s latent space (%d-d)", m.Spec().Kind, k)
	switch {
	case k == 1:
		for i := range n {
			xy[2*i] = codes["test"][i]
		}
	case k == 2:
		copy(xy, codes["test"][:2*n])
	default:
		pca, err := eval.FitPCA(codes["train"], train.N, k, 2)
		if err != nil {
			return nil, fmt.Errorf("projecting codes to 2-D: %w", err)
		}
		xy = pca.Transform(codes["test"][:n*k], n)
		title += ", PCA to 2-D"
	}
	var labels []int
	if test.Labels != nil {
		labels = test.Labels[:n]
	}
	if err := eval.SaveScatter(join(out, "latent.png"), title, xy, labels, test.Classes); err != nil {
		return nil, err
	}
	r.image("latent.png")

	if train.Labels == nil || test.Labels == nil {
		r.note("no labels: kNN accuracy left out")
		return r, nil
	}
	idx := subsample(train.N, opt.KNNTrain, opt.Seed)
	trY := make([]int, len(idx))
	for j, i := range idx {
		trY[j] = train.Labels[i]
	}
	rows := func(x []float32, dim int) []float32 {
		if len(idx) == train.N {
			return x
		}
		o := make([]float32, len(idx)*dim)
		for j, i := range idx {
			copy(o[j*dim:(j+1)*dim], x[i*dim:(i+1)*dim])
		}
		return o
	}
	knn := func(trX, teX []float32, dim int) (float64, error) {
		return eval.KNNAccuracy(trX, trY, teX, test.Labels, dim, opt.K)
	}
	acc, err := knn(rows(codes["train"], k), codes["test"], k)
	if err != nil {
		return nil, fmt.Errorf("kNN on codes: %w", err)
	}
	pk := min(k, train.N, train.Dim())
	pca, err := eval.FitPCA(train.X, train.N, train.Dim(), pk)
	if err != nil {
		return nil, fmt.Errorf("PCA features: %w", err)
	}
	pcaAcc, err := knn(rows(pca.Transform(train.X, train.N), pk), pca.Transform(test.X, test.N), pk)
	if err != nil {
		return nil, fmt.Errorf("kNN on PCA features: %w", err)
	}
	rawAcc, err := knn(rows(train.X, train.Dim()), test.X, train.Dim())
	if err != nil {
		return nil, fmt.Errorf("kNN on raw inputs: %w", err)
	}
	r.Figures["knn_accuracy"] = acc
	r.Figures["knn_pca_accuracy"] = pcaAcc
	r.Figures["knn_raw_accuracy"] = rawAcc
	r.Figures["knn_k"] = float64(opt.K)
	r.Figures["knn_train"] = float64(len(idx))
	r.note("%d-NN test accuracy: %s codes (%d-d) %.4f, PCA-%d %.4f, raw inputs (%d-d) %.4f; %d training samples",
		opt.K, m.Spec().Kind, k, acc, pk, pcaAcc, train.Dim(), rawAcc, len(idx))
	return r, nil
}

// subsample returns all n indices in order, or a seeded random subset of
// size limit (sorted) when 0 < limit < n.
func subsample(n, limit int, seed uint64) []int {
	if limit <= 0 || limit >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	perm := rngFor(seed, 0x4e4e).Perm(n)[:limit]
	out := make([]int, limit)
	copy(out, perm)
	sortInts(out)
	return out
}
