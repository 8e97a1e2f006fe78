// Package eval measures and shows what a trained autoencoder does:
// reconstruction metrics, a PCA baseline to compare against, image grids,
// plots, feature export (NPY/CSV) and a static HTML report.
//
// It is a package of its own because both cmd/train and cmd/eval use it, and
// it must not depend on training internals: everything here works on plain
// float32 slices (row-major, one sample per row; images are C×H×W in [0,1]).
package eval
