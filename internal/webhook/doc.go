// Package webhook is ai3's front door: it verifies GitHub webhook deliveries,
// claims each one exactly once, archives its payload and publishes an
// envelope on the event bus.
//
// The core (Receiver.Handle) is transport-neutral; HTTPHandler serves it with
// net/http (the embedded shape) and Receiver.HandleAPIGateway answers API
// Gateway REST proxy events (the receiver Lambda). The ports it needs —
// ClaimStore and SecretSource here, events.Archive and events.Publisher in
// package events — have an AWS and an embedded adapter each, checked by the
// contract suites in package webhooktest.
package webhook
