package localsfn

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeLambda answers Lambda's Invoke API the way a function behind it would:
// "echo" returns its event, "crash" fails as a runtime reports a handler
// error, and any other name is not found.
func fakeLambda(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/2015-03-31/functions/echo/invocations":
			w.Write(body)
		case "/2015-03-31/functions/crash/invocations":
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.Write([]byte(`{"errorMessage":"boom","errorType":"ValueError"}`))
		case "/2015-03-31/functions/rie/invocations": // an emulator: no header
			w.Write([]byte(`{"errorMessage":"bad input","errorType":"InputError"}`))
		default:
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"Type":"User","message":"Function not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLambdaEndpointRunsUnregisteredFunctions(t *testing.T) {
	srv := fakeLambda(t)
	local := handler(func(in map[string]any) (any, error) { return map[string]any{"local": true}, nil })
	ex := newTestExecutor(t, Options{LambdaEndpoint: srv.URL, Handlers: map[string]Handler{"local": local}})
	task := func(fn string) string {
		return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:` + fn + `","End":true}}}`
	}
	assertOutput(t, runDef(t, ex, task("echo"), `{"a":[1,2]}`), `{"a":[1,2]}`)
	assertOutput(t, runDef(t, ex, task("local"), `{}`), `{"local":true}`) // a registered handler wins

	for _, c := range []struct{ fn, errName, cause string }{
		{"crash", "ValueError", `{"errorMessage":"boom","errorType":"ValueError"}`},
		{"rie", "InputError", `{"errorMessage":"bad input","errorType":"InputError"}`},
		{"missing", ErrLambdaNotFound, "Function not found: " + srv.URL + "/2015-03-31/functions/missing/invocations"},
	} {
		d := runDef(t, ex, task(c.fn), `{}`)
		assertFailed(t, d, c.errName)
		if !strings.HasPrefix(d.Cause, c.cause) {
			t.Errorf("%s: cause %q, want %q", c.fn, d.Cause, c.cause)
		}
	}
	// lambda:invoke wraps the function's answer as Lambda's response.
	invoke := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload":{"x":1}},"OutputPath":"$.Payload","End":true}}}`
	assertOutput(t, runDef(t, ex, invoke, `{}`), `{"x":1}`)
}

func TestHTTPFunctionUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := HTTPFunction(nil, url+"/2015-03-31/functions/f/invocations")(t.Context(), json.RawMessage(`{}`))
	var te *TaskError
	if !asTaskError(err, &te) || te.Name != "Lambda.SdkClientException" {
		t.Fatalf("unreachable endpoint: %v", err)
	}
}

func asTaskError(err error, te **TaskError) bool {
	e, ok := err.(*TaskError)
	*te = e
	return ok
}
