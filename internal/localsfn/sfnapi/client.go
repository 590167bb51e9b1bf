package sfnapi

import (
	"context"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// NoHostPrefix is an AWS SDK for Go v2 API option for a Step Functions
// client pointed at this server (BaseEndpoint http://127.0.0.1:PORT):
// without it StartSyncExecution goes to the host "sync-127.0.0.1", as the
// SDK prefixes that operation's host for AWS's own endpoints.
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
