package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader is the header GitHub signs deliveries with (HMAC-SHA256).
// The SHA-1 header X-Hub-Signature is never consulted.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// ErrMissingSignature means the request carried no X-Hub-Signature-256.
var ErrMissingSignature = errors.New("missing " + SignatureHeader + " header")

// ErrBadSignature means the signature is malformed or matches no configured secret.
var ErrBadSignature = errors.New(SignatureHeader + " does not match the payload")

// Sign returns the X-Hub-Signature-256 value GitHub would send for body
// signed with secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks header (the X-Hub-Signature-256 value) against body
// for each secret in turn, in constant time per secret. It returns nil when
// any secret matches, so a secret can be rotated while both are accepted.
// An empty secret never matches.
func VerifySignature(secrets [][]byte, body []byte, header string) error {
	if header == "" {
		return ErrMissingSignature
	}
	hexSum, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || len(hexSum) != 2*sha256.Size {
		return ErrBadSignature
	}
	want, err := hex.DecodeString(hexSum)
	if err != nil {
		return ErrBadSignature
	}
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, s)
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), want) {
			return nil
		}
	}
	return ErrBadSignature
}
