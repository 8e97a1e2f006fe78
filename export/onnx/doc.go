// Package onnx writes hourglass models as ONNX files, so that a trained
// autoencoder can be served by an existing engine (ONNX Runtime and the many
// runtimes that read ONNX) instead of a home-made one.
//
// One file holds one graph; Options.Part picks which:
//
//   - PartFull (the default) takes raw feature rows "input" (batch×C·H·W)
//     and gives "reconstruction" and "code" (batch×latent; the posterior
//     mean μ for vae and convvae, which also give "logvar", log σ²) and
//     "score", each row's reconstruction MSE — what models.Reconstruct,
//     models.Encode, models.Posterior and apps.ReconScores compute.
//   - PartEncoder gives only the code (and logvar) of "input".
//   - PartDecoder takes "code" and gives "reconstruction".
//
// A fitted dataset.Scaler is folded in as the graph's first ops, so the
// model takes features in data units. Hourglass itself reports
// reconstructions and scores in the scaled units the model was trained in,
// and so does "reconstruction"; with a scaler the graph also gives
// "reconstruction_raw", the reconstruction mapped back to data units.
//
// Inference is deterministic: no corruption for the denoising kind and
// z = μ (ε = 0) for the variational kinds, as in hourglass's own inference.
// The protobuf is encoded here with protowire (onnx.proto's field numbers),
// so the package needs no generated ONNX bindings.
package onnx
