// Package kernels holds the CPU kernels under hourglass's Gorgonia ops and
// optimizers: the packed float32 GEMM (Go driver around AVX2/FMA and
// AVX-512 micro-kernels in gemm_kernel_amd64.s, or OpenBLAS under
// -tags openblas), the AVX2/FMA elementwise kernels of elementwise_amd64.s,
// the Adam update and the fork-join helper they share.
//
// It exists so that assembly, cgo glue and build tags live in one place,
// apart from the ops that call them (package graph/ops) and the model API
// (package graph): kernels change for speed or portability, not for what
// a model computes. Every assembly routine has a pure-Go twin that runs off
// amd64, on CPUs without AVX2/FMA and in builds with -tags purego; the
// tests compare the twins with the assembly on random inputs.
//
// Concurrency: every function is safe for concurrent use on disjoint
// output slices. A Scratch belongs to one caller at a time.
package kernels
