package infra

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
	testStack   = "test"
	// Secret values set as Pulumi secrets in the test stack: no resource but
	// their Secrets Manager versions may carry them.
	testWebhookSecret = "whsec-0123456789abcdef"
	testAppKey        = "-----BEGIN RSA PRIVATE KEY-----\nMIItest\n-----END RSA PRIVATE KEY-----"
	testOAuthSecret   = "oauth-secret-fedcba9876543210"
)

// res is one resource the program registered, with what it gave and what
// the mock answered.
type res struct {
	Type, Name string
	In, Out    resource.PropertyMap
}

// str returns input key as a string ("" when absent).
func (r res) str(key string) string {
	v, ok := r.In[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// plain is the inputs as Go values (secrets unwrapped).
func (r res) plain() map[string]any { return r.In.Mappable() }

// mocks answers the program as AWS would, with ARNs built from names.
type mocks struct {
	mu  sync.Mutex
	all []res
}

func (m *mocks) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := a.Inputs.Copy()
	in := res{Type: a.TypeToken, Name: a.Name, In: a.Inputs}
	name := in.str("name")
	if name == "" {
		name = a.Name
	}
	id := a.Name + "-id"
	set := func(k, v string) { out[resource.PropertyKey(k)] = resource.NewStringProperty(v) }
	region := func(svc, rest string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, testRegion, testAccount, rest)
	}
	switch a.TypeToken {
	case "aws:lambda/function:Function":
		set("arn", region("lambda", "function:"+name))
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", testRegion, region("lambda", "function:"+name)))
		set("name", name)
	case "aws:iam/role:Role":
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", testAccount, name))
	case "aws:dynamodb/table:Table":
		set("arn", region("dynamodb", "table/"+name))
	case "aws:s3/bucketV2:BucketV2":
		b := in.str("bucketPrefix") + "abc123"
		set("bucket", b)
		set("arn", "arn:aws:s3:::"+b)
		id = b
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", region("logs", "log-group:"+name))
	case "aws:cloudwatch/eventBus:EventBus":
		set("arn", region("events", "event-bus/"+name))
	case "aws:cloudwatch/eventRule:EventRule":
		bus := in.str("eventBusName")
		if bus == "" || bus == "default" {
			set("arn", region("events", "rule/"+name))
		} else {
			set("arn", region("events", "rule/"+bus+"/"+name))
		}
	case "aws:sqs/queue:Queue":
		set("arn", region("sqs", name))
		set("url", fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", testRegion, testAccount, name))
	case "aws:kms/key:Key":
		set("arn", region("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"))
		set("keyId", "1234abcd-12ab-34cd-56ef-1234567890ab")
	case "aws:secretsmanager/secret:Secret":
		set("arn", region("secretsmanager", "secret:"+name+"-AbCdEf"))
	case "aws:sfn/stateMachine:StateMachine":
		set("arn", region("states", "stateMachine:"+name))
	case "aws:apigateway/restApi:RestApi":
		id = "a1b2c3d4e5"
		set("rootResourceId", "root0")
		set("executionArn", region("execute-api", id))
	case "aws:apigateway/stage:Stage":
		set("arn", fmt.Sprintf("arn:aws:apigateway:%s::/restapis/a1b2c3d4e5/stages/%s", testRegion, in.str("stageName")))
	case "aws:wafv2/webAcl:WebAcl":
		set("arn", region("wafv2", "regional/webacl/"+name+"/x"))
	case "aws:sns/topic:Topic":
		set("arn", region("sns", name))
	default:
		if _, ok := out["arn"]; !ok {
			set("arn", region(strings.Split(a.TypeToken, ":")[1], a.Name))
		}
	}
	in.Out = out
	m.mu.Lock()
	m.all = append(m.all, in)
	m.mu.Unlock()
	return id, out, nil
}

func (m *mocks) Call(a pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch a.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": testAccount, "arn": "arn:aws:iam::" + testAccount + ":user/t", "userId": "t", "id": testAccount}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": testRegion, "id": testRegion}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}), nil
	}
	return nil, fmt.Errorf("unexpected call %s", a.Token)
}

// deployment is the recorded result of one run of the program.
type deployment struct {
	all     []res
	outputs map[string]any
}

// byType returns the resources of a type token.
func (d *deployment) byType(typ string) []res {
	var out []res
	for _, r := range d.all {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// one returns the resource of type with logical name, failing the test
// when there is none.
func (d *deployment) one(t *testing.T, typ, name string) res {
	t.Helper()
	for _, r := range d.all {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %s", typ, name)
	return res{}
}

// testConfig is a complete stack configuration.
func testConfig() map[string]string {
	return map[string]string{
		"ai3:githubOrg":            "octo-org",
		"ai3:githubAppId":          "424242",
		"ai3:githubClientId":       "Iv1.0123456789abcdef",
		"ai3:githubInstallationId": "777",
		"ai3:alarmEmail":           "ops@example.com",
		"ai3:webhookSecret":        testWebhookSecret,
		"ai3:githubAppPrivateKey":  testAppKey,
		"ai3:oauthClientSecret":    testOAuthSecret,
	}
}

var testSecretKeys = []string{"ai3:webhookSecret", "ai3:githubAppPrivateKey", "ai3:oauthClientSecret"}

// run runs the program under Pulumi's mocks with cfg (secretKeys marked
// secret) and returns what it registered.
func run(t *testing.T, cfg map[string]string, secretKeys []string) (*deployment, error) {
	t.Helper()
	b, _ := json.Marshal(cfg)
	t.Setenv(pulumi.EnvConfig, string(b))
	k, _ := json.Marshal(secretKeys)
	t.Setenv(pulumi.EnvConfigSecretKeys, string(k))
	m := &mocks{}
	outs := make(chan map[string]any, 1)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		o, err := deployStack(ctx)
		if err != nil {
			return err
		}
		o.ToMapOutput().ApplyT(func(v map[string]any) (int, error) { outs <- v; return 0, nil })
		return nil
	}, pulumi.WithMocks("ai3", testStack, m))
	d := &deployment{}
	if err != nil {
		m.mu.Lock()
		d.all = append([]res(nil), m.all...)
		m.mu.Unlock()
		return d, err
	}
	select {
	case d.outputs = <-outs:
	case <-time.After(30 * time.Second):
		t.Fatal("stack outputs never resolved")
	}
	m.mu.Lock()
	d.all = append([]res(nil), m.all...)
	m.mu.Unlock()
	return d, nil
}

var (
	sharedOnce sync.Once
	shared     *deployment
	sharedErr  error
)

// deployed runs the program once with testConfig for every test that only
// reads the result.
func deployed(t *testing.T) *deployment {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = run(t, testConfig(), testSecretKeys) })
	if sharedErr != nil {
		t.Fatalf("deploy: %v", sharedErr)
	}
	return shared
}

// sha is Lambda's source code hash of b.
func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// fn returns the function of a lambdas/* package.
func (d *deployment) fn(t *testing.T, pkg string) res {
	t.Helper()
	return d.one(t, "aws:lambda/function:Function", "ai3-"+testStack+"-"+pkg)
}

// env returns a function's environment variables.
func (r res) env() map[string]string {
	out := map[string]string{}
	e, ok := r.In["environment"]
	if !ok {
		return out
	}
	vars, ok := e.ObjectValue()["variables"]
	if !ok {
		return out
	}
	for k, v := range vars.ObjectValue() {
		if v.IsSecret() {
			out[string(k)] = "<secret>"
			continue
		}
		out[string(k)] = v.StringValue()
	}
	return out
}

// policy parses a policy document input.
func (r res) policy(t *testing.T, key string) policyDocument {
	t.Helper()
	var doc policyDocument
	if err := json.Unmarshal([]byte(r.str(key)), &doc); err != nil {
		t.Fatalf("%s %s: policy %q: %v", r.Type, r.Name, r.str(key), err)
	}
	return doc
}

// strings walks v and calls fn with every string inside it, telling
// whether it sits under a secret.
func walkStrings(v resource.PropertyValue, secret bool, fn func(s string, secret bool)) {
	switch {
	case v.IsSecret():
		walkStrings(v.SecretValue().Element, true, fn)
	case v.IsString():
		fn(v.StringValue(), secret)
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			walkStrings(e, secret, fn)
		}
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			walkStrings(e, secret, fn)
		}
	}
}
