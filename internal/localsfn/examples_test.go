package localsfn

import (
	"regexp"
	"testing"
)

// Examples whose inputs and expected values come from AWS's Step Functions
// documentation; each case names the page it comes from.
const (
	docInputPathParams = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html"
	docResultPath      = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html"
	docOutputPath      = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-example.html"
	docIntrinsics      = "https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html"
	docChoice          = "https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html"
	docErrors          = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
	docFail            = "https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html"
	docContext         = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html"
)

type docCase struct {
	name, page string
	def        string
	input      string
	want       string // expected output
}

func runDocCases(t *testing.T, cases []docCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex := newTestExecutor(t, Options{})
			d := runDef(t, ex, c.def, c.input)
			if t.Failed() {
				return
			}
			assertOutput(t, d, c.want)
			if t.Failed() {
				t.Logf("documented at %s", c.page)
			}
		})
	}
}

// pass wraps one Pass state's fields into a machine.
func pass(fields string) string {
	return `{"StartAt":"S","States":{"S":{"Type":"Pass",` + fields + `,"End":true}}}`
}

func TestDocsInputOutputProcessing(t *testing.T) {
	runDocCases(t, []docCase{
		{"InputPath selects dataset2", docInputPathParams, pass(`"InputPath":"$.dataset2"`),
			`{"comment":"Example for InputPath.","dataset1":{"val1":1,"val2":2,"val3":3},"dataset2":{"val1":"a","val2":"b","val3":"c"}}`,
			`{"val1":"a","val2":"b","val3":"c"}`},
		{"Parameters with paths and a static value", docInputPathParams,
			pass(`"Parameters":{"comment":"Selecting what I care about.","MyDetails":{"size.$":"$.product.details.size","exists.$":"$.product.availability","StaticValue":"foo"}}`),
			`{"comment":"Example for Parameters.","product":{"details":{"color":"blue","size":"small","material":"cotton"},"availability":"in stock","sku":"2317","cost":"$23"}}`,
			`{"comment":"Selecting what I care about.","MyDetails":{"size":"small","exists":"in stock","StaticValue":"foo"}}`},
		{"ResultPath $ replaces the input", docResultPath, pass(`"Result":"Hello, AWS Step Functions!"`),
			`{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			`"Hello, AWS Step Functions!"`},
		{"ResultPath null discards the result", docResultPath, pass(`"Result":"Hello, AWS Step Functions!","ResultPath":null`),
			`{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			`{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`},
		{"ResultPath $.taskresult adds the result", docResultPath, pass(`"Result":"Hello, AWS Step Functions!","ResultPath":"$.taskresult"`),
			`{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			`{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions","taskresult":"Hello, AWS Step Functions!"}`},
		{"ResultPath $.strings.lambdaresult creates the nested node", docResultPath,
			pass(`"Result":"Hello, AWS Step Functions!","ResultPath":"$.strings.lambdaresult"`),
			`{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"}}`,
			`{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"},"strings":{"lambdaresult":"Hello, AWS Step Functions!"}}`},
		{"InputPath, ResultPath and OutputPath together", docOutputPath,
			pass(`"InputPath":"$.lambda","Result":"Hello, AWS Step Functions!","ResultPath":"$.data.lambdaresult","OutputPath":"$.data"`),
			`{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"}}`,
			`{"val1":23,"val2":17,"lambdaresult":"Hello, AWS Step Functions!"}`},
		{"Context object in Parameters", docContext,
			pass(`"Parameters":{"name.$":"$$.State.Name","input.$":"$$.Execution.Input.k","machine.$":"$$.StateMachine.Name","retries.$":"$$.State.RetryCount","entered.$":"$$.State.EnteredTime","started.$":"$$.Execution.StartTime"}`),
			`{"k":"v"}`, `{"name":"S","input":"v","machine":"test","retries":0,"entered":"2025-01-02T03:04:05.000Z","started":"2025-01-02T03:04:05.000Z"}`},
	})
}

func TestDocsIntrinsicFunctions(t *testing.T) {
	p := func(expr string) string { return pass(`"Parameters":{"r.$":"` + expr + `"}`) }
	nine := `{"inputArray":[1,2,3,4,5,6,7,8,9]}`
	runDocCases(t, []docCase{
		{"States.Format", docIntrinsics, p(`States.Format('Hello, my name is {}.', $.name)`), `{"name":"Arnav"}`, `{"r":"Hello, my name is Arnav."}`},
		{"States.Format escapes", docIntrinsics, p(`States.Format('Hello \\{{}\\} \\'{}\\'', $.a, $.b)`), `{"a":"x","b":"y"}`, `{"r":"Hello {x} 'y'"}`},
		{"States.StringToJson", docIntrinsics, p(`States.StringToJson($.escapedJsonString)`), `{"escapedJsonString":"{\"foo\": \"bar\"}"}`, `{"r":{"foo":"bar"}}`},
		{"States.JsonToString", docIntrinsics, p(`States.JsonToString($.unescapedJson)`), `{"unescapedJson":{"foo":"bar"}}`, `{"r":"{\"foo\":\"bar\"}"}`},
		{"States.Array", docIntrinsics, p(`States.Array($.Id)`), `{"Id":123456}`, `{"r":[123456]}`},
		{"States.ArrayPartition", docIntrinsics, p(`States.ArrayPartition($.inputArray,4)`), nine, `{"r":[[1,2,3,4],[5,6,7,8],[9]]}`},
		{"States.ArrayContains", docIntrinsics, p(`States.ArrayContains($.inputArray, $.lookingFor)`), `{"inputArray":[1,2,3,4,5,6,7,8,9],"lookingFor":5}`, `{"r":true}`},
		{"States.ArrayRange", docIntrinsics, p(`States.ArrayRange(1, 9, 2)`), `{}`, `{"r":[1,3,5,7,9]}`},
		{"States.ArrayGetItem", docIntrinsics, p(`States.ArrayGetItem($.inputArray, $.index)`), `{"inputArray":[1,2,3,4,5,6,7,8,9],"index":5}`, `{"r":6}`},
		{"States.ArrayLength", docIntrinsics, p(`States.ArrayLength($.inputArray)`), nine, `{"r":9}`},
		{"States.ArrayUnique", docIntrinsics, p(`States.ArrayUnique($.inputArray)`), `{"inputArray":[1,2,3,3,3,3,3,3,4]}`, `{"r":[1,2,3,4]}`},
		{"States.Base64Encode", docIntrinsics, p(`States.Base64Encode($.input)`), `{"input":"Data to encode"}`, `{"r":"RGF0YSB0byBlbmNvZGU="}`},
		{"States.Base64Decode", docIntrinsics, p(`States.Base64Decode($.base64)`), `{"base64":"RGF0YSB0byBlbmNvZGU="}`, `{"r":"Data to encode"}`},
		{"States.Hash", docIntrinsics, p(`States.Hash($.Data, $.Algorithm)`), `{"Data":"input data","Algorithm":"SHA-1"}`, `{"r":"aaff4a450a104cd177d28d18d74485e8cae074b7"}`},
		{"States.JsonMerge", docIntrinsics, p(`States.JsonMerge($.json1, $.json2, false)`),
			`{"json1":{"a":{"a1":1,"a2":2},"b":2},"json2":{"a":{"a3":1,"a4":2},"c":3}}`, `{"r":{"a":{"a3":1,"a4":2},"b":2,"c":3}}`},
		{"States.MathAdd", docIntrinsics, p(`States.MathAdd($.value1, $.step)`), `{"value1":111,"step":-1}`, `{"r":110}`},
		{"States.StringSplit", docIntrinsics, p(`States.StringSplit($.inputString, $.splitter)`),
			`{"inputString":"This.is+a,test=string","splitter":".+,="}`, `{"r":["This","is","a","test","string"]}`},
		{"States.StringSplit with a comma", docIntrinsics, p(`States.StringSplit($.inputString, ',')`), `{"inputString":"1,2,3,4,5"}`, `{"r":["1","2","3","4","5"]}`},
		{"nested functions", docIntrinsics,
			p(`States.Format('{}.{}', States.ArrayGetItem(States.StringSplit($.Arn, '/'), 1), States.ArrayLength(States.StringSplit($.Arn, '/')))`),
			`{"Arn":"arn:aws:imagebuilder:us-east-1:1:image-recipe/recipe/1.0.0"}`, `{"r":"recipe.3"}`},
	})
}

func TestDocsRandomAndUUID(t *testing.T) {
	ex := newTestExecutor(t, Options{})
	d := runDef(t, ex, pass(`"Parameters":{"n.$":"States.MathRandom($.start, $.end)","u.$":"States.UUID()"}`), `{"start":1,"end":999}`)
	if d.Status != StatusSucceeded {
		t.Fatalf("%s %s %s (%s)", d.Status, d.Error, d.Cause, docIntrinsics)
	}
	out, _ := decodeJSON([]byte(d.Output))
	m := out.(map[string]any)
	n, ok := toInt(m["n"])
	if !ok || n < 1 || n >= 999 {
		t.Errorf("MathRandom(1, 999) = %v, want an integer in [1, 999)", m["n"])
	}
	if u, _ := m["u"].(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Errorf("UUID() = %q, want a version 4 UUID", u)
	}
}

func TestDocsChoice(t *testing.T) {
	// The Choice example of the Choice state page, with a Pass state per target.
	def := `{"StartAt":"ChoiceStateX","States":{
	  "ChoiceStateX":{"Type":"Choice","Choices":[
	    {"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Public"},
	    {"Variable":"$.value","NumericEquals":0,"Next":"ValueIsZero"},
	    {"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}],"Next":"ValueInTwenties"}],
	   "Default":"DefaultState"},
	  "Public":{"Type":"Pass","Result":"Public","End":true},
	  "ValueIsZero":{"Type":"Pass","Result":"ValueIsZero","End":true},
	  "ValueInTwenties":{"Type":"Pass","Result":"ValueInTwenties","End":true},
	  "DefaultState":{"Type":"Pass","Result":"DefaultState","End":true}}}`
	matches := func(rule string) string {
		return `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + rule + `],"Default":"No"},` +
			`"Yes":{"Type":"Pass","Result":true,"End":true},"No":{"Type":"Pass","Result":false,"End":true}}}`
	}
	runDocCases(t, []docCase{
		{"Not StringEquals", docChoice, def, `{"type":"Public","value":22}`, `"Public"`},
		{"NumericEquals", docChoice, def, `{"type":"Private","value":0}`, `"ValueIsZero"`},
		{"And of two ranges", docChoice, def, `{"type":"Private","value":22}`, `"ValueInTwenties"`},
		{"Default", docChoice, def, `{"type":"Private","value":42}`, `"DefaultState"`},
		{"StringMatches log-*.txt", docChoice, matches(`{"Variable":"$.f","StringMatches":"log-*.txt","Next":"Yes"}`), `{"f":"log-2022-01-01.txt"}`, `true`},
		{"StringMatches escaped star", docChoice, matches(`{"Variable":"$.f","StringMatches":"a\\*b","Next":"Yes"}`), `{"f":"a*b"}`, `true`},
		{"StringMatches escaped star is literal", docChoice, matches(`{"Variable":"$.f","StringMatches":"a\\*b","Next":"Yes"}`), `{"f":"axxb"}`, `false`},
		{"TimestampGreaterThan", docChoice, matches(`{"Variable":"$.t","TimestampGreaterThan":"2001-01-01T12:00:00Z","Next":"Yes"}`), `{"t":"2001-01-01T12:00:01Z"}`, `true`},
		{"TimestampLessThanEqualsPath", docChoice, matches(`{"Variable":"$.t","TimestampLessThanEqualsPath":"$.u","Next":"Yes"}`), `{"t":"2001-01-01T12:00:00Z","u":"2001-01-01T13:00:00+01:00"}`, `true`},
		{"IsPresent false on a missing field", docChoice, matches(`{"Variable":"$.missing","IsPresent":false,"Next":"Yes"}`), `{}`, `true`},
		{"IsTimestamp", docChoice, matches(`{"Variable":"$.t","IsTimestamp":true,"Next":"Yes"}`), `{"t":"2016-03-14T01:59:00Z"}`, `true`},
		{"NumericEquals on a string is false", docChoice, matches(`{"Variable":"$.v","NumericEquals":1,"Next":"Yes"}`), `{"v":"1"}`, `false`},
		{"Or", docChoice, matches(`{"Or":[{"Variable":"$.v","StringEquals":"a"},{"Variable":"$.v","StringEquals":"b"}],"Next":"Yes"}`), `{"v":"b"}`, `true`},
		{"BooleanEqualsPath", docChoice, matches(`{"Variable":"$.a","BooleanEqualsPath":"$.b","Next":"Yes"}`), `{"a":true,"b":true}`, `true`},
		{"StringGreaterThanEquals", docChoice, matches(`{"Variable":"$.v","StringGreaterThanEquals":"b","Next":"Yes"}`), `{"v":"b"}`, `true`},
	})
}

func TestDocsErrorHandling(t *testing.T) {
	runDocCases(t, []docCase{
		{"Catch with ResultPath keeps the input", docErrors,
			`{"StartAt":"Fails","States":{"Fails":{"Type":"Parallel","Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"CustomError","Cause":"This is a custom error"}}}],
			  "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Recover","ResultPath":"$.error-info"}],"End":true},
			  "Recover":{"Type":"Pass","End":true}}}`,
			`{"foo":"bar"}`, `{"foo":"bar","error-info":{"Error":"CustomError","Cause":"This is a custom error"}}`},
		{"Catch without ResultPath passes the error object", docErrors,
			`{"StartAt":"Fails","States":{"Fails":{"Type":"Parallel","Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"ErrorA","Cause":"Kaiju attack"}}}],
			  "Catch":[{"ErrorEquals":["ErrorA"],"Next":"Recover"}],"End":true},"Recover":{"Type":"Pass","End":true}}}`,
			`{}`, `{"Error":"ErrorA","Cause":"Kaiju attack"}`},
	})
	t.Run("Fail state", func(t *testing.T) {
		ex := newTestExecutor(t, Options{})
		d := runDef(t, ex, `{"StartAt":"FailState","States":{"FailState":{"Type":"Fail","Error":"ErrorA","Cause":"Kaiju attack"}}}`, `{}`)
		assertFailed(t, d, "ErrorA")
		if d.Cause != "Kaiju attack" {
			t.Errorf("cause %q (%s)", d.Cause, docFail)
		}
	})
}
