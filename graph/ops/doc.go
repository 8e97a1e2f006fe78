// Package ops holds hourglass's own Gorgonia ops, each with a hand-written
// gradient: the fused dense layer (DenseAct), the fused convolution
// (Conv2dAct) and its gradient ops, an upsample-then-convolve computed as a
// phase-decomposed convolution (UpsampleConv2dAct), the fused MSE and BCE
// losses, the VAE's reparameterization and KL term (Reparameterize,
// GaussianKL), a copying Reshape and a nearest-neighbour Upsample. It also
// routes the float32
// products Gorgonia computes itself to the packed GEMM of internal/kernels.
//
// It exists apart from package graph because an op changes with its
// numerics and its gradient, which the gradient checks in this package
// pin down, while graph's layers and losses change with the models; graph
// builds on these constructors. The CPU kernels underneath live in
// internal/kernels.
//
// Concurrency: constructors only add nodes to the graph they are given and
// may be called for different graphs from different goroutines. An op
// writes into a buffer it owns and reuses on every run, so one graph must
// not be run by two machines at once; build one graph per goroutine.
package ops
