package localsfn

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The same 20-Task machine in both query languages: each Task computes its
// arguments with a few expressions (sum, increment, string building, a
// count), the in-process Lambda echoes them, the state keeps five fields
// of the result as its output and assigns one variable.

const langBenchStates = 20

var langTaskJSONata = `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo",
  "Arguments":{"id":"{% $states.input.id %}","total":"{% $states.input.total + $states.input.step %}",
    "step":"{% $states.input.step + 1 %}","tag":"{% 'step-' & $string($states.input.step) %}",
    "items":"{% $count($states.input.data.k) %}","data":"{% $states.input.data %}"},
  "Assign":{"last":"{% $states.result.total %}"},
  "Output":{"id":"{% $states.result.id %}","total":"{% $states.result.total %}","step":"{% $states.result.step %}",
    "data":"{% $states.result.data %}","tag":"{% $states.result.tag %}"}`

var langTaskJSONPath = `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo",
  "Parameters":{"id.$":"$.id","total.$":"States.MathAdd($.total, $.step)","step.$":"States.MathAdd($.step, 1)",
    "tag.$":"States.Format('step-{}', $.step)","items.$":"States.ArrayLength($.data.k)","data.$":"$.data"},
  "ResultSelector":{"id.$":"$.id","total.$":"$.total","step.$":"$.step","data.$":"$.data","tag.$":"$.tag"},
  "ResultPath":"$",
  "Assign":{"last.$":"$.total"}`

// langChain chains n copies of task; language is the machine's QueryLanguage.
func langChain(language, task string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"QueryLanguage":%q,"StartAt":"S0","States":{`, language)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		fmt.Fprintf(&b, `"S%d":{%s,%s}`, i, task, next)
	}
	b.WriteString(`}}`)
	return b.String()
}

const langBenchInput = `{"id":"abc","total":0,"step":1,"data":{"k":[1,2,3],"s":"text"}}`

func langExecutor(t testing.TB) *Executor {
	return newTestExecutor(t, Options{Handlers: map[string]Handler{
		"echo": handler(func(in map[string]any) (any, error) { return in, nil }),
	}})
}

// TestLanguageBenchMachinesAgree: the two machines the benchmark compares
// compute the same output, so the comparison is like for like.
func TestLanguageBenchMachinesAgree(t *testing.T) {
	ex := langExecutor(t)
	want := `{"id":"abc","total":210,"step":21,"data":{"k":[1,2,3],"s":"text"},"tag":"step-20"}`
	for _, lang := range []struct{ name, task string }{{"JSONata", langTaskJSONata}, {"JSONPath", langTaskJSONPath}} {
		t.Run(lang.name, func(t *testing.T) {
			assertOutput(t, runDef(t, ex, langChain(lang.name, lang.task, langBenchStates), langBenchInput), want)
		})
	}
}

// BenchmarkLanguageTaskChain measures transitions per second through the
// 20-Task machine in each query language (EXPRESS: no history, no
// database). The ratio of the two is the cost of JSONata over JSONPath
// with intrinsics for the same work.
func BenchmarkLanguageTaskChain(b *testing.B) {
	for _, lang := range []struct{ name, task string }{{"JSONata", langTaskJSONata}, {"JSONPath", langTaskJSONPath}} {
		b.Run(lang.name, func(b *testing.B) {
			ex := langExecutor(b)
			ctx := context.Background()
			arn, err := ex.CreateStateMachine(ctx, "lang-"+lang.name, []byte(langChain(lang.name, lang.task, langBenchStates)), Express)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start := time.Now()
			n := 0
			for b.Loop() {
				out, err := ex.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Input: langBenchInput})
				if err != nil {
					b.Fatal(err)
				}
				d, err := ex.WaitExecution(ctx, out.ExecutionArn)
				if err != nil || d.Status != StatusSucceeded {
					b.Fatalf("%v %v", d, err)
				}
				n++
			}
			b.ReportMetric(float64(n*langBenchStates)/time.Since(start).Seconds(), "transitions/s")
		})
	}
}
