package secrets_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sbalswa/ai3-mvp/internal/aws/secrets"
	"github.com/sbalswa/ai3-mvp/internal/webhook"
	"github.com/sbalswa/ai3-mvp/internal/webhook/webhooktest"
)

const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ai3/webhook-AbCdEf"

// fakeSecretsManager answers GetSecretValue for arn after checking the wire
// request the way Secrets Manager would (JSON 1.1 protocol, target header,
// SigV4 signature, body naming the secret). Any deviation fails the test.
type fakeSecretsManager struct {
	t     *testing.T
	mu    sync.Mutex
	value *string // nil: the secret does not exist
	calls int
}

func (f *fakeSecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	checks := []struct {
		what      string
		got, want string
	}{
		{"method", r.Method, http.MethodPost},
		{"path", r.URL.Path, "/"},
		{"X-Amz-Target", r.Header.Get("X-Amz-Target"), "secretsmanager.GetSecretValue"},
		{"Content-Type", r.Header.Get("Content-Type"), "application/x-amz-json-1.1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			f.t.Errorf("request %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/secretsmanager/aws4_request") {
		f.t.Errorf("request is not SigV4-signed for secretsmanager: %q", auth)
	}
	var in struct{ SecretId string }
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil || in.SecretId != arn {
		f.t.Errorf("request body %s: want SecretId %s", body, arn)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if f.value == nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"ARN": arn, "Name": "ai3/webhook", "SecretString": *f.value, "VersionId": "v1", "VersionStages": []string{"AWSCURRENT"}})
}

func client(url string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key", ""),
		RetryMaxAttempts: 1,
	})
}

func TestContractAgainstWireFake(t *testing.T) {
	webhooktest.SecretSource(t, func(t *testing.T) (webhook.SecretSource, func([]byte)) {
		fake := &fakeSecretsManager{t: t}
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		return secrets.New(client(srv.URL), arn), func(raw []byte) {
			fake.mu.Lock()
			defer fake.mu.Unlock()
			v := string(raw)
			fake.value = &v
		}
	})
}

func TestMissingSecretIsAnError(t *testing.T) {
	srv := httptest.NewServer(&fakeSecretsManager{t: t})
	defer srv.Close()
	_, err := secrets.New(client(srv.URL), arn).Secrets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("Secrets() of a missing secret = %v, want ResourceNotFoundException", err)
	}
}

func TestCachedSourceAsksOncePerTTL(t *testing.T) {
	v := "s3cret"
	fake := &fakeSecretsManager{t: t, value: &v}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	src := webhook.CacheSecrets(secrets.New(client(srv.URL), arn), 1<<62, nil)
	for range 5 {
		if _, err := src.Secrets(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if fake.calls != 1 {
		t.Fatalf("Secrets Manager was called %d times for 5 cached reads, want 1", fake.calls)
	}
}
