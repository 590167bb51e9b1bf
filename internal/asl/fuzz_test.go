package asl

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParseAndValidate: any input gets a result or an error, never a panic,
// and a definition that passes re-encodes to the same bytes every time.
func FuzzParseAndValidate(f *testing.F) {
	if seed, err := os.ReadFile("testdata/all_states.asl.json"); err == nil {
		f.Add(seed)
	}
	f.Add([]byte(machine(`"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true},"Next":"B"}],"Default":"B"},"B":{"Type":"Succeed"}`)))
	f.Add([]byte(machine(`"A":{"Type":"Pass","Parameters":{"x.$":"States.Format('{}', $.a[0])"},"End":true}`)))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Succeed"}}}]}}}`))
	f.Add([]byte(jsonataMachine(`"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Arguments":{"n":"{% $states.input.n %}"},"TimeoutSeconds":"{% 5 %}","Assign":{"v":"{% $states.result %}"},"Catch":[{"ErrorEquals":["States.ALL"],"Output":"{% $states.errorOutput %}","Assign":{"e":1},"Next":"C"}],"Next":"C"},"C":{"Type":"Choice","Choices":[{"Condition":"{% $v > 1 %}","Assign":{"w":true},"Output":{"x":1},"Next":"W"}],"Default":"W"},"W":{"Type":"Wait","Seconds":"{% 0 %}","Next":"M"},"M":{"Type":"Map","Items":"{% [1,2] %}","MaxConcurrency":"{% 1 %}","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Output":"{% $states.input %}","End":true}}},"End":true}`)))
	f.Add([]byte(machine(`"A":{"Type":"Pass","Assign":{"x.$":"$.a","y":1},"Next":"B"},"B":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $x %}","End":true}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseAndValidate(data, Standard)
		if err != nil {
			return
		}
		a, err := m.JSON()
		if err != nil {
			t.Fatalf("valid machine does not encode: %v", err)
		}
		m2, err := ParseAndValidate(a, Standard)
		if err != nil {
			t.Fatalf("re-encoded machine is invalid: %v\n%s", err, a)
		}
		b, _ := m2.JSON()
		if !bytes.Equal(a, b) {
			t.Fatalf("encoding is not stable:\n%s\n%s", a, b)
		}
	})
}

// FuzzPaths: the path and intrinsic parsers never panic.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{"$", "$.a[0]['b']", "$..x[?(@.y)]", "$$.Task.Token", "States.JsonMerge($.a, States.Array(1, 'x'), false)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = checkPath(s, referencePath, true)
		_ = checkPath(s, jsonPath, false)
		_ = checkIntrinsic(s)
	})
}
