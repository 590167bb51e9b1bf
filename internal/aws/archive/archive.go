// Package archive is the AWS shape's events.Archive: raw payloads as S3
// objects, written with server-side encryption (SSE-KMS when a key is
// configured, else SSE-S3). The bucket itself is private, versioned and has a
// 90-day lifecycle; Pulumi (internal/infra) creates it that way.
//
// Wiring (lambdas/receiver, handlers that call events.Load):
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	a := archive.New(s3.NewFromConfig(cfg), os.Getenv("ARCHIVE_BUCKET"), archive.Options{KMSKeyID: os.Getenv("ARCHIVE_KMS_KEY")})
package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sbalswa/ai3-mvp/internal/events"
)

// MaxObjectSize bounds what Get reads: GitHub caps payloads at 25 MB.
const MaxObjectSize = 26 << 20

// S3 is the part of the S3 client the archive uses (*s3.Client has it).
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// Options configure encryption.
type Options struct {
	// KMSKeyID selects SSE-KMS with this key (id, alias or ARN). Empty means
	// SSE-S3 (AES256).
	KMSKeyID string
}

// Archive stores payloads in one S3 bucket.
type Archive struct {
	client S3
	bucket string
	opts   Options
}

// New returns the archive over bucket.
func New(client S3, bucket string, opts Options) *Archive {
	return &Archive{client: client, bucket: bucket, opts: opts}
}

// Put stores body at key, encrypted at rest. S3 makes the object visible
// whole or not at all. The write is conditional (If-None-Match: *), so it
// never replaces an archived payload: when the key holds the same bytes (a
// redelivery) Put succeeds, when it holds other bytes it fails with
// events.ErrArchived.
func (a *Archive) Put(ctx context.Context, key string, body []byte) (events.Ref, error) {
	if err := events.CheckKey(key); err != nil {
		return events.Ref{}, fmt.Errorf("s3 archive: put: %w", err)
	}
	ref := events.Ref{Bucket: a.bucket, Key: key}
	for attempt := 0; ; attempt++ {
		_, err := a.client.PutObject(ctx, a.putInput(key, body))
		switch {
		case err == nil:
			return ref, nil
		case isStatus(err, http.StatusConflict) && attempt < 3:
			// A concurrent conditional write of the key is in flight
			// (ConditionalRequestConflict): once it ends, ours either
			// lands or meets its object.
			select {
			case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
			case <-ctx.Done():
				return events.Ref{}, fmt.Errorf("s3 archive: put s3://%s/%s: %w", a.bucket, key, ctx.Err())
			}
			continue
		case !isStatus(err, http.StatusPreconditionFailed):
			return events.Ref{}, fmt.Errorf("s3 archive: put s3://%s/%s: %w", a.bucket, key, err)
		}
		have, err := a.Get(ctx, ref)
		if err != nil {
			return events.Ref{}, fmt.Errorf("s3 archive: put s3://%s/%s: the key exists: %w", a.bucket, key, err)
		}
		if !bytes.Equal(have, body) {
			return events.Ref{}, fmt.Errorf("s3 archive: put s3://%s/%s: %w", a.bucket, key, events.ErrArchived)
		}
		return ref, nil
	}
}

func (a *Archive) putInput(key string, body []byte) *s3.PutObjectInput {
	in := &s3.PutObjectInput{
		Bucket:               aws.String(a.bucket),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(body),
		ContentLength:        aws.Int64(int64(len(body))),
		ContentType:          aws.String("application/json"),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
		IfNoneMatch:          aws.String("*"), // never replace an archived payload
	}
	if a.opts.KMSKeyID != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(a.opts.KMSKeyID)
		in.BucketKeyEnabled = aws.Bool(true)
	}
	return in
}

// Get reads the object ref points to; events.ErrNotFound when it is absent.
func (a *Archive) Get(ctx context.Context, ref events.Ref) ([]byte, error) {
	if ref.Bucket != a.bucket {
		return nil, fmt.Errorf("s3 archive: get: reference to bucket %q, this archive is %q", ref.Bucket, a.bucket)
	}
	if err := events.CheckKey(ref.Key); err != nil {
		return nil, fmt.Errorf("s3 archive: get: %w", err)
	}
	out, err := a.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(ref.Key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("s3 archive: get s3://%s/%s: %w", a.bucket, ref.Key, events.ErrNotFound)
		}
		return nil, fmt.Errorf("s3 archive: get s3://%s/%s: %w", a.bucket, ref.Key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxObjectSize+1))
	if err != nil {
		return nil, fmt.Errorf("s3 archive: read s3://%s/%s: %w", a.bucket, ref.Key, err)
	}
	if len(body) > MaxObjectSize {
		return nil, fmt.Errorf("s3 archive: s3://%s/%s is over %d bytes", a.bucket, ref.Key, MaxObjectSize)
	}
	return body, nil
}

// Check reports whether the bucket answers (the health handler's check).
func (a *Archive) Check(ctx context.Context) error {
	if _, err := a.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a.bucket)}); err != nil {
		return fmt.Errorf("s3 archive: bucket %s: %w", a.bucket, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	return errors.As(err, &nsk) || isStatus(err, http.StatusNotFound)
}

// isStatus reports whether err is an S3 answer with this HTTP status.
func isStatus(err error, status int) bool {
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == status
}
