package events

import (
	"context"
	"errors"
	"testing"
	"time"
)

// mapArchive is an in-memory Archive for tests of this package.
type mapArchive struct {
	objects map[string][]byte
	err     error
}

func (m *mapArchive) Put(ctx context.Context, key string, body []byte) (Ref, error) {
	if m.err != nil {
		return Ref{}, m.err
	}
	m.objects[key] = append([]byte(nil), body...)
	return Ref{Bucket: "mem", Key: key}, nil
}

func (m *mapArchive) Get(ctx context.Context, ref Ref) ([]byte, error) {
	if m.err != nil {
		return nil, m.err
	}
	b, ok := m.objects[ref.Key]
	if !ok {
		return nil, ErrNotFound
	}
	return b, nil
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	small := fixture(t, "issue_comment.json")
	large := bigPayload(InlineLimit + 10)
	arch := &mapArchive{objects: map[string][]byte{}}
	down := &mapArchive{err: errors.New("connection refused")}

	build := func(body []byte, a *mapArchive) *Envelope {
		d := Delivery{ID: "d1", Event: "workflow_run", HookID: "1", ReceivedAt: time.Now(), Body: body}
		key, err := ArchiveKey(d)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := arch.Put(ctx, key, body)
		if err != nil {
			t.Fatal(err)
		}
		env, err := NewEnvelope(d, ref)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	inline, byRef := build(small, arch), build(large, arch)
	missing := *byRef
	missing.S3Reference = &Ref{Bucket: "mem", Key: "nope"}
	bare := *byRef
	bare.S3Reference = nil

	tests := []struct {
		name    string
		a       Archive
		env     *Envelope
		want    []byte
		wantErr error
	}{
		{"inline needs no archive", nil, inline, small, nil},
		{"inline ignores a broken archive", down, inline, small, nil},
		{"reference followed", arch, byRef, large, nil},
		{"reference to absent object", arch, &missing, nil, ErrNotFound},
		{"archive down", down, byRef, nil, down.err},
		{"no payload, no reference", arch, &bare, nil, ErrNoPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(ctx, tt.a, tt.env)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Load error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tt.want) {
				t.Fatalf("Load returned %d bytes, want the %d-byte payload", len(got), len(tt.want))
			}
		})
	}
}
