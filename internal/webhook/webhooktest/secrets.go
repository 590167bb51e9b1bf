package webhooktest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// SecretSource runs the SecretSource contract. open returns a fresh source and
// a set function that writes raw as its stored value (creating or replacing it).
func SecretSource(t *testing.T, open func(t *testing.T) (src webhook.SecretSource, set func(raw []byte))) {
	ctx := context.Background()
	cases := []struct {
		name string
		raw  string
		want []string
		err  error
	}{
		{"one secret", "s3cret", []string{"s3cret"}, nil},
		{"trailing newline is not part of the secret", "s3cret\n", []string{"s3cret"}, nil},
		{"rotation: current then previous", "new-secret\nold-secret\n", []string{"new-secret", "old-secret"}, nil},
		{"blank lines and spaces ignored", "\n  a  \r\n\n b\n", []string{"a", "b"}, nil},
		{"empty is refused", "", nil, webhook.ErrNoSecret},
		{"whitespace only is refused", " \n\t\n", nil, webhook.ErrNoSecret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, set := open(t)
			set([]byte(tc.raw))
			got, err := src.Secrets(ctx)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Secrets() error = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Secrets(): %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Secrets() = %d secrets, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], []byte(tc.want[i])) {
					t.Fatalf("secret %d differs from the stored one", i)
				}
			}
		})
	}
	t.Run("a changed value is read at run time", func(t *testing.T) {
		src, set := open(t)
		set([]byte("first"))
		if got, err := src.Secrets(ctx); err != nil || string(got[0]) != "first" {
			t.Fatalf("Secrets() = %q, %v", got, err)
		}
		set([]byte("second"))
		if got, err := src.Secrets(ctx); err != nil || string(got[0]) != "second" {
			t.Fatalf("after update Secrets() = %q, %v", got, err)
		}
	})
}
