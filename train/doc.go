// Package train fits models: optimizers of our own (adam, adamw, sgd,
// rmsprop; their whole state is exported so checkpoints resume exactly),
// learning-rate schedules, gradient clipping, early stopping, the epoch
// loop with validation, safe stops on cancellation and non-finite losses,
// progress display, metrics (metrics.jsonl, metrics.csv, loss.png) and
// checkpoints that let an interrupted run end bitwise where an unbroken one
// would have. Gorgonia's solvers are not used because they hide their state
// and fix the learning rate.
package train
