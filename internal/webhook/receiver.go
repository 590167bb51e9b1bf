package webhook

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// Config is what a Receiver is wired with. Secrets, Claims, Archive and
// Publisher are required; the rest have defaults.
type Config struct {
	Secrets   SecretSource
	Claims    ClaimStore
	Archive   events.Archive
	Publisher events.Publisher
	Log       *slog.Logger

	MaxBody  int64            // largest accepted body; default DefaultMaxBody (25 MB)
	Lease    time.Duration    // how long a claim protects an attempt; default 60 s
	ClaimTTL time.Duration    // how long a delivery id is remembered; default 24 h
	Now      func() time.Time // default time.Now

	// BodyTimeout bounds how long the net/http transport waits for a body
	// (GitHub itself gives up after 10 s); default 30 s.
	BodyTimeout time.Duration

	// MaxUnverified bounds the body bytes all requests together hold before
	// their signatures are checked; default DefaultMaxUnverified (two
	// bodies of MaxBody), never less than one. A request that would go over
	// waits up to BusyWait (default 10 s) for bytes to be released, then is
	// answered 503 server_busy.
	MaxUnverified int64
	BusyWait      time.Duration
}

// Receiver is the transport-neutral webhook core. It is safe for concurrent use.
type Receiver struct {
	cfg        Config
	log        *slog.Logger
	unverified *budget
}

// New checks cfg and returns a Receiver. It reads the secret once, so a
// missing or empty secret is a startup error (ErrNoSecret), never a receiver
// that accepts everything.
func New(ctx context.Context, cfg Config) (*Receiver, error) {
	switch {
	case cfg.Secrets == nil:
		return nil, errors.New("webhook receiver: no secret source")
	case cfg.Claims == nil:
		return nil, errors.New("webhook receiver: no claim store")
	case cfg.Archive == nil:
		return nil, errors.New("webhook receiver: no archive")
	case cfg.Publisher == nil:
		return nil, errors.New("webhook receiver: no publisher")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 60 * time.Second
	}
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = 24 * time.Hour
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUnverified <= 0 {
		cfg.MaxUnverified = max(DefaultMaxUnverified, 2*cfg.MaxBody+2)
	}
	cfg.MaxUnverified = max(cfg.MaxUnverified, cfg.MaxBody+1)
	if cfg.BusyWait <= 0 {
		cfg.BusyWait = 10 * time.Second
	}
	secrets, err := cfg.Secrets.Secrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	if !anyNonEmpty(secrets) {
		return nil, fmt.Errorf("webhook receiver: %w", ErrNoSecret)
	}
	return &Receiver{cfg: cfg, log: cfg.Log, unverified: newBudget(cfg.MaxUnverified)}, nil
}

func anyNonEmpty(secrets [][]byte) bool {
	for _, s := range secrets {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// Handle processes one delivery: verify the signature over the raw body,
// claim hook id + delivery id, archive the payload, publish the envelope,
// mark the claim done. Any failure after the claim releases it and answers
// 5xx, so GitHub's redelivery is processed rather than deduplicated away.
func (r *Receiver) Handle(ctx context.Context, req Request) Response {
	a, refused := r.accept(ctx, req)
	if refused != nil {
		return *refused
	}
	return r.process(ctx, a)
}

// accept checks everything that can be checked without storing anything:
// method, media type, headers, size, signature, payload. It answers with a
// response when the delivery is refused.
func (r *Receiver) accept(ctx context.Context, req Request) (a accepted, refused *Response) {
	refuse := func(resp Response) (accepted, *Response) {
		return accepted{}, &resp
	}
	var (
		d   events.Delivery
		key string
	)
	if req.Method != http.MethodPost {
		resp := failure(http.StatusMethodNotAllowed, "method_not_allowed", "deliveries are POSTed")
		resp.Header = http.Header{"Allow": {http.MethodPost}}
		return refuse(resp)
	}
	h := req.Header
	if h == nil {
		h = http.Header{}
	}
	mt := mediaType(h)
	if mt != mediaJSON && mt != mediaForm {
		return refuse(failure(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type must be application/json or application/x-www-form-urlencoded"))
	}
	d = events.Delivery{ID: h.Get(DeliveryHeader), Event: h.Get(EventHeader), HookID: h.Get(HookIDHeader)}
	for _, hd := range []struct{ name, value string }{{EventHeader, d.Event}, {DeliveryHeader, d.ID}, {HookIDHeader, d.HookID}} {
		if hd.value == "" {
			return refuse(failure(http.StatusBadRequest, "missing_header", hd.name+" header is required"))
		}
		if !validID(hd.value) {
			return refuse(failure(http.StatusBadRequest, "bad_header", hd.name+" header must be letters, digits, '.', '_' or '-'"))
		}
	}

	length := req.ContentLength
	if req.Body == nil {
		length = 0
	}
	waitCtx, cancel := context.WithTimeout(ctx, r.cfg.BusyWait)
	body, held, err := readBody(waitCtx, req.Body, length, r.cfg.MaxBody, r.unverified)
	cancel()
	switch {
	case errors.Is(err, errTooLarge):
		return refuse(failure(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("payload is over %d bytes", r.cfg.MaxBody)))
	case errors.Is(err, errBusy):
		resp := r.fail(ctx, http.StatusServiceUnavailable, "server_busy", "the server is receiving too many deliveries; redeliver later",
			"unverified bodies over budget", err, "delivery_id", d.ID, "max_unverified", r.cfg.MaxUnverified)
		resp.Header = http.Header{"Retry-After": {"10"}}
		return refuse(resp)
	case err != nil:
		// The transport's error names sockets: it goes to the log only.
		return refuse(r.fail(ctx, http.StatusBadRequest, "bad_body", "the body could not be read whole (cut short or too slow)",
			"unreadable body", err, "delivery_id", d.ID))
	}
	// The body is held unverified until its signature is checked.
	verified := func() { r.unverified.release(held); held = 0 }
	defer verified()

	secrets, err := r.cfg.Secrets.Secrets(ctx)
	if err != nil {
		return refuse(r.fail(ctx, http.StatusServiceUnavailable, "secret_unavailable", "the webhook secret could not be read; redeliver later",
			"webhook secret unavailable", err, "delivery_id", d.ID))
	}
	err = VerifySignature(secrets, body, h.Get(SignatureHeader))
	verified()
	if err != nil {
		r.log.WarnContext(ctx, "rejected delivery", "delivery_id", d.ID, "event", d.Event, "reason", err)
		return refuse(failure(http.StatusUnauthorized, "bad_signature", err.Error()))
	}

	if d.Body, err = ParsePayload(mt, body); err != nil {
		return refuse(failure(http.StatusBadRequest, "bad_payload", err.Error()))
	}
	d.ReceivedAt = r.cfg.Now().UTC()
	if key, err = events.ArchiveKey(d); err != nil {
		return refuse(failure(http.StatusBadRequest, "bad_delivery", err.Error()))
	}
	// The signature is good: a staging archive starts writing and syncing
	// the payload now, under a temporary name, while the payload is
	// validated and the delivery claimed; it appears at its key only once
	// the delivery is valid and claimed.
	staged := r.stage(ctx, key, d.Body)
	// Building the envelope validates the payload (one pass) before anything
	// is claimed; the archive's real reference replaces the placeholder.
	env, err := events.NewEnvelope(d, events.Ref{Key: key})
	if err != nil {
		staged.discard()
		return refuse(failure(http.StatusBadRequest, "bad_payload", err.Error()))
	}
	return accepted{d: d, env: env, key: key, staged: staged}, nil
}

// accepted is a delivery that passed every check, ready to be claimed.
type accepted struct {
	d      events.Delivery
	env    *events.Envelope
	key    string
	staged staging // nil unless the archive stages
}

// staging delivers the outcome of a staging archive's Stage; nil when the
// archive does not stage.
type staging chan stageResult

// stage starts staging body at key when the archive can.
func (r *Receiver) stage(ctx context.Context, key string, body []byte) staging {
	st, ok := r.cfg.Archive.(events.Stager)
	if !ok {
		return nil
	}
	c := make(staging, 1)
	go func() {
		s, err := st.Stage(ctx, key, body)
		c <- stageResult{s, err}
	}()
	return c
}

// discard waits for the staging and forgets what it wrote.
func (c staging) discard() {
	if c == nil {
		return
	}
	if res := <-c; res.err == nil {
		res.staged.Discard()
	}
}

// process claims, archives, publishes and finishes an accepted delivery.
func (r *Receiver) process(ctx context.Context, a accepted) Response {
	d, env, key, staged := a.d, a.env, a.key, a.staged
	log := r.log.With("delivery_id", d.ID, "event", d.Event, "hook_id", d.HookID)
	claim := Claim{
		Key:        d.HookID + "/" + d.ID,
		Token:      rand.Text(),
		At:         d.ReceivedAt,
		LeaseUntil: d.ReceivedAt.Add(r.cfg.Lease),
		ExpiresAt:  d.ReceivedAt.Add(r.cfg.ClaimTTL),
	}
	outcome, err := r.cfg.Claims.Claim(ctx, claim)
	if err != nil {
		staged.discard()
		return r.failLog(ctx, log, http.StatusServiceUnavailable, "claim_unavailable", "could not record the delivery; redeliver later", "claim failed", err)
	}
	switch outcome {
	case Duplicate:
		staged.discard()
		log.InfoContext(ctx, "duplicate delivery ignored")
		return answer(http.StatusOK, Answer{OK: true, Delivery: d.ID, Duplicate: true})
	case InProgress:
		staged.discard()
		log.InfoContext(ctx, "delivery already in progress")
		return failure(http.StatusConflict, "in_progress", "this delivery is being processed by another request")
	}

	var ref events.Ref
	if staged != nil {
		res := <-staged
		if err = res.err; err == nil {
			if ap, ok := r.cfg.Publisher.(ArchivingPublisher); ok {
				return r.commitPublishAndFinish(ctx, log, ap, res.staged, a, claim)
			}
			ref, err = res.staged.Commit(ctx)
		}
	} else {
		ref, err = r.cfg.Archive.Put(ctx, key, d.Body)
	}
	if err != nil {
		r.release(ctx, log, claim)
		return r.failLog(ctx, log, http.StatusServiceUnavailable, "archive_unavailable", "could not archive the payload; redeliver later", "archive failed", err)
	}
	env.S3Reference = &ref
	if fp, ok := r.cfg.Publisher.(FinishingPublisher); ok {
		return r.settle(ctx, log, a, claim, fp.PublishAndFinish(ctx, env, claim),
			"publish", "bus_unavailable", "could not publish the delivery; redeliver later")
	}
	if resp, ok := r.publishThenFinish(ctx, log, env, claim); !ok {
		return resp
	}
	return r.answerAccepted(ctx, log, a)
}

// commitPublishAndFinish archives, publishes and finishes a claimed
// delivery in one atomic write (ArchivingPublisher).
func (r *Receiver) commitPublishAndFinish(ctx context.Context, log *slog.Logger, ap ArchivingPublisher, staged events.Staged, a accepted, claim Claim) Response {
	return r.settle(ctx, log, a, claim, ap.CommitPublishAndFinish(ctx, staged, a.env, claim),
		"archive and publish", "store_unavailable", "could not archive and publish the delivery; redeliver later")
}

// settle answers for the outcome of a write (what) that publishes and
// finishes at once: ErrNotHolder means the event is out (logged,
// accepted); any other error means nothing was published: the claim is
// released and the answer is 503 with code and message.
func (r *Receiver) settle(ctx context.Context, log *slog.Logger, a accepted, claim Claim, err error, what, code, message string) Response {
	switch {
	case errors.Is(err, ErrNotHolder):
		log.WarnContext(ctx, "published but the claim was no longer held", "err", err)
	case err != nil:
		r.release(ctx, log, claim)
		return r.failLog(ctx, log, http.StatusServiceUnavailable, code, message, what+" failed", err)
	}
	return r.answerAccepted(ctx, log, a)
}

// answerAccepted logs an accepted delivery and gives its answer.
func (r *Receiver) answerAccepted(ctx context.Context, log *slog.Logger, a accepted) Response {
	log.InfoContext(ctx, "delivery accepted", "bytes", len(a.d.Body), "inline", a.env.PayloadComplete)
	return answer(http.StatusOK, Answer{OK: true, Delivery: a.d.ID})
}

// stageResult is what a staging archive answered.
type stageResult struct {
	staged events.Staged
	err    error
}

// publishThenFinish publishes env, then marks the claim done; ok is false
// with the answer to give when the publish failed.
func (r *Receiver) publishThenFinish(ctx context.Context, log *slog.Logger, env *events.Envelope, claim Claim) (Response, bool) {
	if err := r.cfg.Publisher.Publish(ctx, env); err != nil {
		r.release(ctx, log, claim)
		return r.failLog(ctx, log, http.StatusServiceUnavailable, "bus_unavailable", "could not publish the delivery; redeliver later", "publish failed", err), false
	}
	// The event is on the bus: finish even if the client has hung up, and
	// never answer 5xx from here on, which would invite a second publish. A
	// claim left "processing" frees itself when its lease ends.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.cfg.Claims.Finish(fctx, claim); err != nil {
		log.WarnContext(ctx, "published but could not mark the claim done", "err", err)
	}
	return Response{}, true
}

// release frees a claim after a failure, even when ctx was cancelled (the
// client hung up), so the redelivery is not taken for a duplicate.
func (r *Receiver) release(ctx context.Context, log *slog.Logger, c Claim) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.cfg.Claims.Release(ctx, c); err != nil {
		log.ErrorContext(ctx, "could not release claim; it frees itself when the lease ends", "err", err, "lease_until", c.LeaseUntil)
	}
}

// fail logs err with a new request id and answers a failure that carries
// the id but none of err's details (paths, addresses, driver messages).
func (r *Receiver) fail(ctx context.Context, status int, code, message, logMsg string, err error, attrs ...any) Response {
	return r.failLog(ctx, r.log.With(attrs...), status, code, message, logMsg, err)
}

func (r *Receiver) failLog(ctx context.Context, log *slog.Logger, status int, code, message, logMsg string, err error) Response {
	id := rand.Text()[:16]
	level := slog.LevelWarn // the client's doing
	if status >= 500 {
		level = slog.LevelError
	}
	log.Log(ctx, level, logMsg, "request_id", id, "code", code, "err", err)
	return failureID(status, code, message, id)
}
