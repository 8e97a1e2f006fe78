// Package pipeline is hourglass's batch scoring on Apache Beam: a pipeline
// that reads sharded inputs (CSV, .npy or IDX files matched by a glob on
// any Beam file system), scores or encodes every row with a checkpoint via
// the hourglass package, and writes sharded CSV of (file, row, score, flag)
// and, optionally, the codes as sharded CSV or .npy.
//
// It lives in its own Go module (github.com/hourglass-ml/hourglass/beam) so
// users of the core module do not pull Beam's dependencies.
package pipeline
