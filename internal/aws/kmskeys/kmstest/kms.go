// Package kmstest is a KMS double over HTTP for tests: it speaks KMS's JSON
// 1.1 wire protocol for GenerateDataKey and Decrypt and enforces the
// encryption context the way KMS does (the context authenticates the
// ciphertext, so Decrypt must present exactly the same map). No KMS emulator
// available to us enforces it faithfully.
package kmstest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Server is the KMS double. URL is its endpoint and KeyID its one key.
type Server struct {
	URL   string
	KeyID string
	aead  cipher.AEAD
	mu    sync.Mutex
	calls map[string]int
}

// New starts a double for the test; it stops when the test ends.
func New(t testing.TB) *Server {
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	block, _ := aes.NewCipher(master)
	aead, _ := cipher.NewGCM(block)
	d := &Server{KeyID: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		aead: aead, calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

// Calls returns how many requests an operation ("TrentService.Decrypt") got.
func (d *Server) Calls(target string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[target]
}

func aad(ec map[string]string) []byte {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		fmt.Fprintf(&b, "%q=%q;", k, ec[k])
	}
	return []byte(b.String())
}

func (d *Server) fail(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (d *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	d.mu.Lock()
	d.calls[target]++
	d.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		d.fail(w, "IncompleteSignatureException", "not a signed JSON 1.1 request")
		return
	}
	var in struct {
		KeyID             string            `json:"KeyId"`
		KeySpec           string            `json:"KeySpec"`
		EncryptionContext map[string]string `json:"EncryptionContext"`
		CiphertextBlob    []byte            `json:"CiphertextBlob"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		d.fail(w, "SerializationException", err.Error())
		return
	}
	if in.KeyID != d.KeyID {
		d.fail(w, "NotFoundException", "Key '"+in.KeyID+"' does not exist")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch target {
	case "TrentService.GenerateDataKey":
		if in.KeySpec != "AES_256" {
			d.fail(w, "ValidationException", "KeySpec must be AES_256 here")
			return
		}
		dk := make([]byte, 32)
		_, _ = rand.Read(dk)
		nonce := make([]byte, d.aead.NonceSize())
		_, _ = rand.Read(nonce)
		blob := d.aead.Seal(nonce, nonce, dk, aad(in.EncryptionContext))
		_ = json.NewEncoder(w).Encode(map[string]any{"CiphertextBlob": blob, "Plaintext": dk, "KeyId": d.KeyID})
	case "TrentService.Decrypt":
		n := d.aead.NonceSize()
		if len(in.CiphertextBlob) < n {
			d.fail(w, "InvalidCiphertextException", "")
			return
		}
		dk, err := d.aead.Open(nil, in.CiphertextBlob[:n], in.CiphertextBlob[n:], aad(in.EncryptionContext))
		if err != nil {
			d.fail(w, "InvalidCiphertextException", "")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Plaintext": dk, "KeyId": d.KeyID, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	default:
		d.fail(w, "UnknownOperationException", target)
	}
}
