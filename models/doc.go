// Package models defines the autoencoders hourglass trains: one Model
// interface, a JSON Spec from which any model is rebuilt, and one file per
// kind that reads like its math: dense.go (basic, deep), denoising.go,
// sparse.go, conv.go and vae.go (vae, convvae). Kinds with more to say than
// a loss implement the optional Figurer (denoising, sparse), Generator and
// Variational (vae, convvae) interfaces. Models own their parameters and
// build Gorgonia graphs over them (from package graph); they know nothing of
// optimizers, epochs or files.
package models
