package webhook_test

import (
	"errors"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// TestSignatureKnownAnswer checks Sign and VerifySignature against GitHub's
// documented example ("Validating webhook deliveries"), so the two cannot
// agree on a wrong scheme (another hash, hex case, prefix, or key and
// message swapped).
func TestSignatureKnownAnswer(t *testing.T) {
	secret := []byte("It's a Secret to Everybody")
	payload := []byte("Hello, World!")
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := webhook.Sign(secret, payload); got != want {
		t.Fatalf("Sign = %s, want GitHub's %s", got, want)
	}
	cases := []struct {
		name    string
		secrets [][]byte
		header  string
		want    error
	}{
		{"GitHub's example verifies", [][]byte{secret}, want, nil},
		{"beside a rotated-out secret", [][]byte{[]byte("old"), secret}, want, nil},
		{"upper-case hex verifies", [][]byte{secret}, "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17", nil},
		{"another secret", [][]byte{[]byte("It's a Secret to Nobody")}, want, webhook.ErrBadSignature},
		{"without the sha256= prefix", [][]byte{secret}, want[len("sha256="):], webhook.ErrBadSignature},
		{"the SHA-1 scheme's prefix", [][]byte{secret}, "sha1=" + want[len("sha256="):], webhook.ErrBadSignature},
		{"one digit changed", [][]byte{secret}, want[:len(want)-1] + "8", webhook.ErrBadSignature},
		{"missing", [][]byte{secret}, "", webhook.ErrMissingSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := webhook.VerifySignature(c.secrets, payload, c.header); !errors.Is(err, c.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, c.want)
			}
		})
	}
}
