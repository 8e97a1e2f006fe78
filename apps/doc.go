// Package apps runs what autoencoders are used for — reconstruction,
// denoising, anomaly detection, feature extraction, PCA comparison,
// generation — on a trained model and data, producing figures and pictures;
// cmd/eval wires flags to it.
//
// It is separate from eval, which holds pure metrics and pictures with no
// model dependency.
package apps
