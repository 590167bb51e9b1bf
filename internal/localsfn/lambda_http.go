package localsfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPFunction returns a Handler that runs a real Lambda function through
// Lambda's Invoke API (RequestResponse) at invokeURL: for a function running
// under aws-lambda-rie, http://127.0.0.1:9000/2015-03-31/functions/function/invocations.
// A function error (X-Amz-Function-Error, or the runtime's
// {"errorMessage","errorType"} document) fails the task with errorType as
// the ASL error and the document as the cause, as Step Functions reports a
// Lambda function's failure; a nil client means http.DefaultClient.
func HTTPFunction(client *http.Client, invokeURL string) Handler {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, invokeURL, bytes.NewReader(input))
		if err != nil {
			return nil, &TaskError{Name: "Lambda.SdkClientException", Cause: err.Error()}
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
		resp, err := client.Do(req)
		if err != nil {
			return nil, &TaskError{Name: "Lambda.SdkClientException", Cause: "Unable to execute HTTP request: " + err.Error()}
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20)) // Lambda's 6 MB response limit
		if err != nil {
			return nil, &TaskError{Name: "Lambda.SdkClientException", Cause: "read the function's response: " + err.Error()}
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, &TaskError{Name: ErrLambdaNotFound, Cause: fmt.Sprintf("Function not found: %s (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: %s; Proxy: null)", invokeURL, newUUID())}
		}
		if resp.StatusCode/100 != 2 {
			kind, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
			if kind == "" {
				kind = "ServiceException"
			}
			return nil, &TaskError{Name: "Lambda." + kind, Cause: fmt.Sprintf("%s (Service: AWSLambda; Status Code: %d)", strings.TrimSpace(string(body)), resp.StatusCode)}
		}
		if resp.Header.Get("X-Amz-Function-Error") != "" || isRuntimeError(body) {
			var doc struct {
				ErrorType string `json:"errorType"`
			}
			_ = json.Unmarshal(body, &doc)
			if doc.ErrorType == "" {
				doc.ErrorType = ErrLambdaUnknown
			}
			return nil, &TaskError{Name: doc.ErrorType, Cause: string(body)}
		}
		return body, nil
	}
}

// isRuntimeError recognises the error document a Lambda runtime answers
// when the handler failed ({"errorMessage","errorType"[,"stackTrace"]}),
// which emulators return without the X-Amz-Function-Error header.
func isRuntimeError(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m["errorType"] == nil || m["errorMessage"] == nil {
		return false
	}
	for k := range m {
		switch k {
		case "errorType", "errorMessage", "stackTrace", "requestId", "cause":
		default:
			return false
		}
	}
	return true
}

// lambdaInvokeURL is where a function is invoked at a Lambda API endpoint.
func lambdaInvokeURL(endpoint, function string) string {
	return strings.TrimSuffix(endpoint, "/") + "/2015-03-31/functions/" + url.PathEscape(function) + "/invocations"
}
