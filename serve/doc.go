// Package serve serves loaded hourglass models over HTTP: scoring,
// encoding and reconstruction of rows sent as JSON or CSV, with concurrent
// requests to one model gathered into micro-batches, Prometheus metrics on
// a registry the server owns, and models reloaded in place without
// dropping requests.
//
// A Server is an http.Handler; the hourglass serve command wraps it in an
// http.Server with signal handling. See docs/serving.md for the API.
package serve
