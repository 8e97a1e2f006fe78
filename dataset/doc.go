// Package dataset owns getting training data into memory as float32 and
// handing it out in batches: it reads IDX files (MNIST, Fashion-MNIST, plain or
// gzipped) and numeric CSV, embeds a small Fashion-MNIST sample so the toolkit
// works offline, splits and filters datasets, produces deterministic batch
// orders from (seed, epoch) so a resumed run needs no saved shuffle state, and
// fits feature scalers that checkpoints store as JSON.
//
// It knows nothing about graphs or models; everything downstream sees a
// Dataset: N samples of shape C×H×W in one row-major []float32.
package dataset
