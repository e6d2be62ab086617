// Package e2e holds the end-to-end tests: bin/handler under the Functions host emulator,
// through the Entra gateway (TLS) in front of a private redis-server, with tokens from the
// managed-identity token service, in forwarded and in payload mode.
package e2e
