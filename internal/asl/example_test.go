package asl_test

import (
	"errors"
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/asl"
)

// A CDK-style chain: a Lambda call, a typed Choice, and two endings.
func ExampleNewStateMachine() {
	build := asl.NewLambdaInvoke("Build", "arn:aws:lambda:us-east-1:000000000000:function:build",
		map[string]any{"ref.$": "$.ref"}).
		ResultSelector(map[string]any{"artifact.$": "$.Payload.artifact"}).
		ResultPath(asl.P("$.build"))
	ship := asl.NewChoice("Production?").
		When(asl.StringEquals("$.env", "prod"), asl.NewSucceed("Ship")).
		Otherwise(asl.NewFail("Refuse", "NotProd", "only prod ships"))
	m, err := asl.NewStateMachine(asl.Standard, build.Next(ship)).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	js, _ := m.JSON()
	fmt.Print(string(js))
	// Output:
	// {
	//   "StartAt": "Build",
	//   "States": {
	//     "Build": {
	//       "Type": "Task",
	//       "Resource": "arn:aws:states:::lambda:invoke",
	//       "Parameters": {
	//         "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:build",
	//         "Payload": {
	//           "ref.$": "$.ref"
	//         }
	//       },
	//       "ResultSelector": {
	//         "artifact.$": "$.Payload.artifact"
	//       },
	//       "ResultPath": "$.build",
	//       "Next": "Production?"
	//     },
	//     "Production?": {
	//       "Type": "Choice",
	//       "Choices": [
	//         {
	//           "Variable": "$.env",
	//           "StringEquals": "prod",
	//           "Next": "Ship"
	//         }
	//       ],
	//       "Default": "Refuse"
	//     },
	//     "Ship": {
	//       "Type": "Succeed"
	//     },
	//     "Refuse": {
	//       "Type": "Fail",
	//       "Error": "NotProd",
	//       "Cause": "only prod ships"
	//     }
	//   }
	// }
}

// A workflow is a DAG of steps; the compiler finds the parallelism.
func ExampleNewWorkflow() {
	w := asl.NewWorkflow("release", asl.Standard)
	w.Step("build", asl.Invoke("build"))
	w.Step("unit", asl.Invoke("test").With("suite", "unit")).Needs("build")
	w.Step("lint", asl.Invoke("lint"))
	w.Step("e2e", asl.Invoke("test").With("suite", "e2e")).Needs("build")
	w.Step("publish", asl.Invoke("publish")).Needs("unit", "e2e", "lint")
	plan, err := w.Plan()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan)
	m, err := w.Compile(func(task string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + task })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range m.States {
		fmt.Println(s.Name, s.State.Type())
	}
	// Output:
	// ((build ; (unit | e2e)) | lint) ; publish
	// Start Pass
	// Parallel 1 Parallel
	// publish Task
	// publish failed Fail
}

// Validation reports every problem at once, each with its state's path.
func ExampleParseAndValidate() {
	_, err := asl.ParseAndValidate([]byte(`{
	  "StartAt": "Wait",
	  "States": {
	    "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
	             "Parameters": {"FunctionName": "f"}, "ResultPath": "$.a[*]", "Next": "Done"},
	    "Orphan": {"Type": "Succeed"}
	  }
	}`), asl.Express)
	var ve *asl.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// States["Wait"]: transition to "Done", which names no state in this scope
	// States["Wait"]: EXPRESS machines cannot use arn:aws:states:::lambda:invoke.waitForTaskToken (only STANDARD can wait for a callback or a job)
	// States["Wait"]: .waitForTaskToken needs the task token ($$.Task.Token) in Parameters
	// States["Wait"]: ResultPath: path "$.a[*]": [*] is not allowed in a reference path (only .name, ['name'] and [index])
	// States["Wait"]: no path to a terminal state (End, Succeed or Fail)
	// States["Orphan"]: unreachable from StartAt "Wait"
}

// Afterwards joins a Choice's branches again, like CDK's afterwards().
func ExampleChoiceState_Afterwards() {
	fast := asl.NewPass("Fast path")
	slow := asl.NewWait("Slow path", asl.WaitSeconds(10))
	pick := asl.NewChoice("Urgent?").
		When(asl.And(asl.IsPresent("$.priority", true), asl.NumericGreaterThanEquals("$.priority", 5)), fast).
		Otherwise(slow)
	m, err := asl.NewStateMachine(asl.Express, asl.Sequence(pick.Afterwards(), asl.NewSucceed("Done"))).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range m.States {
		fmt.Printf("%s (%s)\n", s.Name, s.State.Type())
	}
	fmt.Println("Fast path →", m.States.Get("Fast path").(*asl.Pass).Next)
	fmt.Println("Slow path →", m.States.Get("Slow path").(*asl.Wait).Next)
	// Output:
	// Urgent? (Choice)
	// Fast path (Pass)
	// Done (Succeed)
	// Slow path (Wait)
	// Fast path → Done
	// Slow path → Done
}

// Branches run at the same time; Catch sends any failure to a handler.
func ExampleParallelState_Branch() {
	lint := asl.NewTask("Lint", "arn:aws:lambda:us-east-1:000000000000:function:lint")
	test := asl.NewTask("Test", "arn:aws:lambda:us-east-1:000000000000:function:test").
		Retry(asl.TransientLambdaErrors())
	both := asl.NewParallel("Checks").
		Branch(lint, test).
		ResultPath(asl.Null()). // keep the input, drop the branch outputs
		Catch([]string{"States.ALL"}, asl.P("$.error"), asl.NewFail("Failed", "ChecksFailed", "a check failed"))
	m, err := asl.NewStateMachine(asl.Standard, both).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	p := m.States.Get("Checks").(*asl.Parallel)
	fmt.Println(len(p.Branches), "branches, catch →", p.Catch[0].Next, "ResultPath", p.ResultPath)
	// Output:
	// 2 branches, catch → Failed ResultPath null
}

// Workflow variables in a JSONPath machine: Assign stores values ("name.$"
// reads a path), and later states read them as $name.
func ExamplePassState_Assign() {
	remember := asl.NewPass("Remember").
		Assign(map[string]any{"ref.$": "$.ref", "attempt": 1})
	use := asl.NewPass("Use").
		Parameters(map[string]any{"ref.$": "$ref", "attempt.$": "$attempt"})
	m, err := asl.NewStateMachine(asl.Express, remember.Next(use)).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	js, _ := m.JSON()
	fmt.Print(string(js))
	// Output:
	// {
	//   "StartAt": "Remember",
	//   "States": {
	//     "Remember": {
	//       "Type": "Pass",
	//       "Assign": {
	//         "attempt": 1,
	//         "ref.$": "$.ref"
	//       },
	//       "Next": "Use"
	//     },
	//     "Use": {
	//       "Type": "Pass",
	//       "Parameters": {
	//         "attempt.$": "$attempt",
	//         "ref.$": "$ref"
	//       },
	//       "End": true
	//     }
	//   }
	// }
}

// A JSONata machine: Arguments and Output instead of the path fields,
// Assign from the state's result, and a Choice on a JSONata Condition.
// Build compiles every "{% … %}" expression.
func ExampleMachineBuilder_QueryLanguage() {
	build := asl.NewTask("Build", "arn:aws:states:::lambda:invoke").
		Arguments(map[string]any{
			"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:build",
			"Payload":      map[string]any{"ref": asl.Expr("$states.input.ref")},
		}).
		Assign(map[string]any{"artifact": asl.Expr("$states.result.Payload.artifact")}).
		Output(asl.Expr("$states.result.Payload"))
	ship := asl.NewChoice("Green?").
		When(asl.Cond(asl.Expr("$states.input.failures = 0")), asl.NewSucceed("Ship").Output(asl.Expr("{'artifact': $artifact}"))).
		Otherwise(asl.NewFail("Refuse", "TestsFailed", asl.Expr("$string($states.input.failures) & ' failures'")))
	m, err := asl.NewStateMachine(asl.Standard, build.Next(ship)).QueryLanguage(asl.JSONata).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	js, _ := m.JSON()
	fmt.Print(string(js))
	// Output:
	// {
	//   "QueryLanguage": "JSONata",
	//   "StartAt": "Build",
	//   "States": {
	//     "Build": {
	//       "Type": "Task",
	//       "Resource": "arn:aws:states:::lambda:invoke",
	//       "Arguments": {
	//         "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:build",
	//         "Payload": {
	//           "ref": "{% $states.input.ref %}"
	//         }
	//       },
	//       "Output": "{% $states.result.Payload %}",
	//       "Assign": {
	//         "artifact": "{% $states.result.Payload.artifact %}"
	//       },
	//       "Next": "Green?"
	//     },
	//     "Green?": {
	//       "Type": "Choice",
	//       "Choices": [
	//         {
	//           "Condition": "{% $states.input.failures = 0 %}",
	//           "Next": "Ship"
	//         }
	//       ],
	//       "Default": "Refuse"
	//     },
	//     "Ship": {
	//       "Type": "Succeed",
	//       "Output": "{% {'artifact': $artifact} %}"
	//     },
	//     "Refuse": {
	//       "Type": "Fail",
	//       "Error": "TestsFailed",
	//       "Cause": "{% $string($states.input.failures) & ' failures' %}"
	//     }
	//   }
	// }
}
