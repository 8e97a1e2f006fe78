// Package graph holds the building blocks that hourglass models are made of:
// named parameters shared by every graph a model builds, layers (Dense,
// Conv2d, Upsample), activations and losses, all as Gorgonia nodes so that
// gradients come from Gorgonia's symbolic differentiation. It also owns the
// choice of device (CPU or CUDA) a graph runs on.
package graph
