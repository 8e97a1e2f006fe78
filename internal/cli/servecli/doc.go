// Package servecli is the serve command (hourglass serve): it serves one
// or more checkpoints over HTTP with package serve, reloads them on SIGHUP
// and shuts down gracefully on SIGINT or SIGTERM.
package servecli
