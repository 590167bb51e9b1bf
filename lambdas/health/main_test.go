package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sbalswa/ai3-mvp/internal/aws/marks"
	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestHealthUnderRIE runs the built Lambda under aws-lambda-rie against
// gofakes3 (S3), a wire-checking EventBridge double and dynalite (DynamoDB),
// with a scheduled event: all up, then with the event bus missing.
func TestHealthUnderRIE(t *testing.T) {
	dynalite := testenv.Dynalite(t)
	ddb := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String(dynalite), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", "")})
	if err := marks.CreateTable(context.Background(), ddb, "ai3-marks"); err != nil {
		t.Fatal(err)
	}
	backend := s3mem.New()
	if err := backend.CreateBucket("ai3-payloads"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3srv.Close()
	eb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "AWSEvents.DescribeEventBus" || in.Name != "ai3-bus" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"Event bus does not exist."}`)
			return
		}
		fmt.Fprint(w, `{"Name":"ai3-bus","Arn":"arn:aws:events:us-east-1:111122223333:event-bus/ai3-bus"}`)
	}))
	defer eb.Close()
	scheduled := []byte(`{"version":"0","id":"s-1","detail-type":"Scheduled Event","source":"aws.events","account":"111122223333","time":"2026-11-28T12:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:111122223333:rule/ai3-health"],"detail":{}}`)

	for _, tt := range []struct {
		name    string
		busName string
		wantUp  map[string]float64
	}{
		{"all up", "ai3-bus", map[string]float64{"archive": 1, "bus": 1, "marks": 1}},
		{"bus missing", "no-such-bus", map[string]float64{"archive": 1, "bus": 0, "marks": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fn := testenv.StartLambda(t, testenv.LambdaSpec{Package: ".", Env: []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=SECRETTEST",
				"AWS_ENDPOINT_URL_S3=" + s3srv.URL, "AWS_ENDPOINT_URL_EVENTBRIDGE=" + eb.URL, "AWS_ENDPOINT_URL_DYNAMODB=" + dynalite,
				"ARCHIVE_BUCKET=ai3-payloads", "EVENT_BUS_NAME=" + tt.busName, "MARKS_TABLE=ai3-marks"}})
			out := string(fn.Invoke(t, scheduled))
			failed := strings.Contains(out, "errorMessage")
			if wantFail := tt.wantUp["bus"] == 0; failed != wantFail {
				t.Fatalf("answer %s, want failure=%v\n%s", out, wantFail, fn.Logs())
			}
			up := map[string]float64{}
			heartbeat := false
			for _, line := range fn.JSONLines() {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("stdout line is not JSON: %s", line)
				}
				if v, ok := m["DependencyUp"].(float64); ok {
					up[m["Dependency"].(string)] = v
				}
				if m["Heartbeat"] == 1.0 {
					heartbeat = true
				}
			}
			if !heartbeat || fmt.Sprint(up) != fmt.Sprint(tt.wantUp) {
				t.Fatalf("heartbeat=%v DependencyUp=%v, want %v\n%s", heartbeat, up, tt.wantUp, fn.Logs())
			}
		})
	}
}
