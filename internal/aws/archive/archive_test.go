package archive

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/archivetest"
)

const bucket = "ai3-payloads"

// fakeS3 serves gofakes3 over httptest and records the headers of every
// object write, so tests can check what went over the wire.
type fakeS3 struct {
	srv  *httptest.Server
	mu   sync.Mutex
	puts []http.Header
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	f := &fakeS3{}
	s3h := gofakes3.New(backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			f.mu.Lock()
			f.puts = append(f.puts, r.Header.Clone())
			f.mu.Unlock()
		}
		s3h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func client(url string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:     aws.String(url),
		UsePathStyle:     true,
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		RetryMaxAttempts: 1,
	})
}

func TestContract(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) events.Archive {
		return New(client(newFakeS3(t).srv.URL), bucket, Options{})
	})
}

func TestServerSideEncryptionOnTheWire(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantSSE string
		wantKey string
	}{
		{"SSE-S3 by default", Options{}, "AES256", ""},
		{"SSE-KMS with a key", Options{KMSKeyID: "alias/ai3-archive"}, "aws:kms", "alias/ai3-archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(t)
			a := New(client(f.srv.URL), bucket, tt.opts)
			if _, err := a.Put(context.Background(), "2026/11/28/push/sse.json", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.puts) != 1 {
				t.Fatalf("%d PUT requests, want 1", len(f.puts))
			}
			h := f.puts[0]
			if got := h.Get("X-Amz-Server-Side-Encryption"); got != tt.wantSSE {
				t.Errorf("x-amz-server-side-encryption = %q, want %q", got, tt.wantSSE)
			}
			if got := h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != tt.wantKey {
				t.Errorf("kms key id = %q, want %q", got, tt.wantKey)
			}
			if got := h.Get("If-None-Match"); got != "*" {
				t.Errorf("If-None-Match = %q, want * (a write must never replace a payload)", got)
			}
			if got := h.Get("Content-Type"); got != "application/json" {
				t.Errorf("content-type = %q", got)
			}
			if h.Get("Authorization") == "" || !strings.HasPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256") {
				t.Errorf("request is not SigV4-signed: %q", h.Get("Authorization"))
			}
		})
	}
}

// S3 unreachable or failing: Put and Check return errors (the receiver then
// releases its claim and answers 5xx), Get does not pretend the object is
// missing.
func TestS3Down(t *testing.T) {
	ctx := context.Background()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`))
	}))
	defer failing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, url := range map[string]string{"500": failing.URL, "closed": closed.URL} {
		t.Run(name, func(t *testing.T) {
			a := New(client(url), bucket, Options{})
			if _, err := a.Put(ctx, "2026/11/28/push/x.json", []byte(`{}`)); err == nil {
				t.Error("Put succeeded against a broken S3")
			}
			if _, err := a.Get(ctx, events.Ref{Bucket: bucket, Key: "2026/11/28/push/x.json"}); err == nil || errors.Is(err, events.ErrNotFound) {
				t.Errorf("Get against a broken S3 = %v, want a non-NotFound error", err)
			}
			if err := a.Check(ctx); err == nil {
				t.Error("Check succeeded against a broken S3")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	f := newFakeS3(t)
	if err := New(client(f.srv.URL), bucket, Options{}).Check(context.Background()); err != nil {
		t.Fatalf("Check on an existing bucket: %v", err)
	}
	if err := New(client(f.srv.URL), "no-such-bucket", Options{}).Check(context.Background()); err == nil {
		t.Fatal("Check on a missing bucket succeeded")
	}
}

// TestConcurrentConditionalWrite: S3 answers 409 ConditionalRequestConflict
// while another conditional write of the key is in flight; Put tries again
// and then meets the object like any repeated Put.
func TestConcurrentConditionalWrite(t *testing.T) {
	f := newFakeS3(t)
	var conflicts int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := r.Method == http.MethodPut && conflicts == 0
		if first {
			conflicts++
		}
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting conditional operation is in progress.</Message></Error>`))
			return
		}
		r.URL.Host, r.URL.Scheme = strings.TrimPrefix(f.srv.URL, "http://"), "http"
		resp, err := http.DefaultTransport.RoundTrip(r.Clone(r.Context()))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	a := New(client(srv.URL), bucket, Options{})
	if _, err := a.Put(context.Background(), "2026/11/28/push/1/c.json", []byte(`{"a":1}`)); err != nil {
		t.Fatalf("Put after a 409: %v", err)
	}
	if _, err := a.Put(context.Background(), "2026/11/28/push/1/c.json", []byte(`{"a":2}`)); !errors.Is(err, events.ErrArchived) {
		t.Fatalf("Put of other bytes = %v, want ErrArchived", err)
	}
}
