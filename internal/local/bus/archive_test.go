package bus

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
)

// With Options.Archive, an archived inline payload is stored once (in the
// archive), restored for the handler, and a payload missing from the archive
// fails the delivery into the dead-letter table with the reason.
func TestPayloadRestoredFromArchive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	arch, err := archive.Open(ctx, filepath.Join(dir, "payloads"), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, filepath.Join(dir, "bus.db"))
	opts := fastOpts()
	opts.Archive = arch
	b := newBus(t, db, opts)
	got := make(chan *events.Envelope, 4)
	b.Subscribe(events.HandlerFunc(events.TargetStub, func(ctx context.Context, env *events.Envelope) error {
		got <- env
		return nil
	}))
	a := newAlerts()
	b.SubscribeDeadLetters(a)

	body := []byte(`{"action":"created","comment":{"body":"` + strings.Repeat("z", 20000) + `"}}`)
	publish := func(id string) *events.Envelope {
		d := events.Delivery{ID: id, Event: "issue_comment", HookID: "1", ReceivedAt: time.Now(), Body: body}
		key, err := events.ArchiveKey(d)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := arch.Put(ctx, key, body)
		if err != nil {
			t.Fatal(err)
		}
		env, err := events.NewEnvelope(d, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(ctx, env); err != nil {
			t.Fatal(err)
		}
		return env
	}
	publish("kept")
	var stored int
	if err := db.QueryRowContext(ctx, `SELECT max(length(envelope)) FROM bus_events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored >= len(body) {
		t.Fatalf("stored envelope is %d bytes: the payload was stored twice", stored)
	}
	lost := publish("lost")
	if err := os.Remove(filepath.Join(dir, "payloads", filepath.FromSlash(lost.S3Reference.Key))); err != nil {
		t.Fatal(err)
	}

	run(t, b)
	select {
	case env := <-got:
		if env.DeliveryID != "kept" || !env.PayloadComplete || !bytes.Equal(env.Payload, body) {
			t.Fatalf("handler got %s complete=%v with %d payload bytes, want the whole payload", env.DeliveryID, env.PayloadComplete, len(env.Payload))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	dl := a.wait(t)
	if dl.Envelope.DeliveryID != "lost" || !strings.Contains(dl.Reason, "restore payload") {
		t.Fatalf("dead letter %+v", dl)
	}
	if !strings.Contains(dl.Reason, events.ErrNotFound.Error()) {
		t.Fatalf("reason %q does not say the payload is missing", dl.Reason)
	}
}
