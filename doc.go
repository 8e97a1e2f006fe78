// Package hourglass trains autoencoders and puts them to work from Go: the
// one import a program needs to train a model, load a checkpoint, and
// encode, reconstruct and score data with it, or to run an anomaly
// detector inside a service.
//
// # Shapes
//
// Every method takes samples as one flat []float32, row-major: n samples
// of Model.InputDim values each (C·H·W for images, the number of features
// for a table), in the units the data came in. A Model applies the scaler
// it was trained with, so raw features go in; a length that is not a
// positive multiple of InputDim is an error, as is a NaN or an infinity.
//
// # Scores
//
// A sample's anomaly score is its mean squared reconstruction error (over
// scaled features) for the plain kinds, and its negative ELBO in nats for
// the variational kinds (vae, convvae), computed by the model's own graph
// at the posterior mean. Higher is more anomalous. Predict flags scores
// above the threshold stored with the model: Train fits it on the training
// data and saves it in the checkpoint, so a model loaded later flags new
// data exactly as it did when it was trained.
//
// # Concurrency
//
// A *Model is safe for concurrent use: any number of goroutines may score,
// encode and reconstruct with one loaded model. Each call borrows a
// compiled inference graph from a small pool, so throughput grows with the
// cores given to it.
//
// The packages below this one (dataset, models, train, apps, ...) are the
// building blocks the commands use; this package is the stable surface.
package hourglass
