package tokens

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
)

// sealedPair is the plaintext inside Record.Sealed.
type sealedPair struct {
	Access  string `json:"a"`
	Refresh string `json:"r,omitempty"`
}

// The encryption context of every user token's data key: {PurposeKey:
// Purpose, UserIDKey: "<user id>"}. The KMS key policy (Pulumi) allows
// GenerateDataKey and Decrypt only with this context.
const (
	PurposeKey = "purpose"
	Purpose    = "ai3-user-token"
	UserIDKey  = "user_id"
)

// encryptionContext binds a data key to one user: KMS (or the local keyring)
// refuses to open it under any other user id.
func encryptionContext(userID int64) map[string]string {
	return map[string]string{PurposeKey: Purpose, UserIDKey: strconv.FormatInt(userID, 10)}
}

func additionalData(userID int64) []byte {
	return []byte("ai3-user-token:" + strconv.FormatInt(userID, 10))
}

// seal encrypts both tokens under a fresh data key bound to userID.
func seal(ctx context.Context, keys DataKeys, userID int64, g Grant) (wrapped, sealed []byte, err error) {
	dk, wrapped, err := keys.GenerateDataKey(ctx, encryptionContext(userID))
	if err != nil {
		return nil, nil, fmt.Errorf("generate data key for user %d: %w", userID, err)
	}
	defer clear(dk)
	aead, err := newGCM(dk)
	if err != nil {
		return nil, nil, err
	}
	plain, err := json.Marshal(sealedPair{Access: g.AccessToken, Refresh: g.RefreshToken})
	if err != nil {
		return nil, nil, fmt.Errorf("encode tokens: %w", err)
	}
	defer clear(plain)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, fmt.Errorf("nonce: %w", err)
	}
	return wrapped, aead.Seal(nonce, nonce, plain, additionalData(userID)), nil
}

// open decrypts a record's tokens; it fails with ErrSealed when the record's
// sealed parts belong to another user or were altered.
func open(ctx context.Context, keys DataKeys, rec Record) (sealedPair, error) {
	dk, err := keys.Decrypt(ctx, rec.WrappedKey, encryptionContext(rec.UserID))
	if err != nil {
		return sealedPair{}, fmt.Errorf("open data key of user %d: %w: %w", rec.UserID, ErrSealed, err)
	}
	defer clear(dk)
	aead, err := newGCM(dk)
	if err != nil {
		return sealedPair{}, err
	}
	if len(rec.Sealed) < aead.NonceSize() {
		return sealedPair{}, fmt.Errorf("user %d: %w: ciphertext too short", rec.UserID, ErrSealed)
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, rec.Sealed[:n], rec.Sealed[n:], additionalData(rec.UserID))
	if err != nil {
		return sealedPair{}, fmt.Errorf("user %d: %w", rec.UserID, ErrSealed)
	}
	defer clear(plain)
	var p sealedPair
	if err := json.Unmarshal(plain, &p); err != nil {
		return sealedPair{}, fmt.Errorf("user %d: decode sealed tokens: %w", rec.UserID, err)
	}
	return p, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("data key is %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return cipher.NewGCM(block)
}
