// Package graph holds the building blocks that hourglass models are made of:
// named parameters shared by every graph a model builds (Params), layers
// (Dense, MLP, Conv2d, and Flatten, Unflatten, Reshape and Upsample as
// functions), activations, reconstruction losses, the VAE's
// reparameterisation and KL term, and sparsity penalties, all as Gorgonia
// nodes.
//
// It exists so that models (package models) are written against one small
// model-building API. What runs underneath is elsewhere: the fused ops with
// hand-written gradients in graph/ops, the CPU kernels in internal/kernels
// and the choice of device in package device.
//
// Concurrency: Params is safe for concurrent use (see its methods); a Param's
// value is shared by every graph and is updated in place by optimizers, which
// must not run while another goroutine runs a graph over the same Params.
// Layers are immutable after construction. Everything else here only adds
// nodes to the graph it is given; one graph belongs to one goroutine.
package graph
