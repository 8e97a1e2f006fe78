// Package models defines the autoencoders hourglass trains: one Model
// interface, a JSON Spec from which any model is rebuilt, and one file per
// kind that reads like its math. Models own their parameters and build
// Gorgonia graphs over them (from package graph); they know nothing of
// optimizers, epochs or files.
package models
