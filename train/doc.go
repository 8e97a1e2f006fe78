// Package train fits models: optimizers of our own (their whole state is
// exported so checkpoints resume exactly), the epoch loop with validation,
// progress display, per-epoch metrics and checkpoints. Gorgonia's solvers
// are not used because they hide their state and fix the learning rate.
package train
