package webhook_test

import (
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/webhook"
)

// During a rotation both secrets are accepted; anything else is refused.
func ExampleVerifySignature() {
	body := []byte(`{"zen":"Design for failure."}`)
	secrets := [][]byte{[]byte("new-secret"), []byte("old-secret")}

	fmt.Println(webhook.VerifySignature(secrets, body, webhook.Sign([]byte("old-secret"), body)))
	fmt.Println(webhook.VerifySignature(secrets, body, webhook.Sign([]byte("guess"), body)))
	fmt.Println(webhook.VerifySignature(secrets, body, ""))
	// Output:
	// <nil>
	// X-Hub-Signature-256 does not match the payload
	// missing X-Hub-Signature-256 header
}

// The stored secret value holds one secret per line, current first.
func ExampleParseSecrets() {
	secrets, err := webhook.ParseSecrets([]byte("new-secret\nold-secret\n"))
	fmt.Println(len(secrets), err)
	_, err = webhook.ParseSecrets([]byte("\n"))
	fmt.Println(err == webhook.ErrNoSecret)
	// Output:
	// 2 <nil>
	// true
}
