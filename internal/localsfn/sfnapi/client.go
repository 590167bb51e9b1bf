package sfnapi

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// NewClient returns an AWS SDK for Go v2 Step Functions client for a local
// server at url (e.g. "http://127.0.0.1:8083", as `ai3 sfn serve` prints
// it): region us-east-1, static credentials (the server accepts any), the
// endpoint url, NoHostPrefix, and no retries, so a failure shows at once
// instead of after the SDK's backoff.
func NewClient(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:     aws.String(url),
		APIOptions:       []func(*middleware.Stack) error{NoHostPrefix},
		RetryMaxAttempts: 1,
	})
}

// NoHostPrefix is an AWS SDK for Go v2 API option for a Step Functions
// client pointed at this server (BaseEndpoint http://127.0.0.1:PORT):
// without it StartSyncExecution goes to the host "sync-127.0.0.1", as the
// SDK prefixes that operation's host for AWS's own endpoints. NewClient
// sets it; add it yourself to a client built from your own config:
//
//	client := sfn.NewFromConfig(cfg, func(o *sfn.Options) {
//		o.BaseEndpoint = aws.String(url)
//		o.APIOptions = append(o.APIOptions, sfnapi.NoHostPrefix)
//	})
func NoHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ai3NoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}
