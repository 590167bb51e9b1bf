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
//
// Answers, in the order the checks run:
//
//	405 method_not_allowed      not a POST
//	415 unsupported_media_type  not application/json or application/x-www-form-urlencoded
//	400 missing_header/bad_header  X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-ID
//	413 too_large               body over 25 MB (checked while reading)
//	400 bad_body                body shorter/longer than announced, or unreadable
//	503 secret_unavailable      the secret source failed (nothing was stored)
//	401 bad_signature           X-Hub-Signature-256 missing or matching no secret
//	400 bad_payload             not a JSON object (form: no payload field)
//	503 claim_unavailable       the claim store failed (nothing was stored)
//	200 duplicate:true          hook id + delivery id already processed
//	409 in_progress             another attempt holds a live lease on it
//	503 archive_unavailable, bus_unavailable  failed after the claim: the claim
//	                            is released, so GitHub's redelivery is processed
//	200 duplicate:false         archived, published, claim marked done
//
// When the Publisher is a FinishingPublisher (the embedded shape: bus and
// claims in one SQLite database), publishing and marking the claim done are
// one atomic write instead of two.
//
// A claim whose holder crashed frees itself when its lease ends (60 s by
// default). If marking the claim done fails after the publish, the answer is
// still 200: the event is on the bus, and a 5xx would invite a second publish.
package webhook
