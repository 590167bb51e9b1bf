// Package localsfn is the embedded Step Functions executor: it runs Amazon
// States Language definitions in-process with AWS's semantics, keeps
// executions in SQLite so a restarted process resumes them, and runs Task
// states with Go handlers in place of Lambda functions.
//
// # What it runs
//
// Every state type (Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map
// inline or DISTRIBUTED without an ItemReader) in both query languages:
// JSONPath states with InputPath, Parameters, ResultSelector, ResultPath and
// OutputPath (null paths, ".$" keys, the Context object, the 18 intrinsic
// functions), and JSONata states with Arguments, Output, Items, Condition and
// $states, evaluated by internal/jsonata. Workflow variables (Assign) work
// in both, scoped per Parallel branch and Map iteration: inner scopes read
// outer variables, and a definition in which one assigns an outer variable
// is refused by Parse. A variable (and one Assign field) holds at most
// 256 KiB of JSON and an execution's variables 10 MiB (VariableLimit,
// ExecutionVariablesLimit); beyond, the state fails with
// States.DataLimitExceeded. Retry
// (MaxAttempts 0, BackoffRate, MaxDelaySeconds, JitterStrategy FULL), Catch,
// the States.ALL and States.TaskFailed rules, task and machine timeouts,
// heartbeats, tolerated Map failures and the 256 KB payload limit behave as
// in AWS, with AWS's error names and causes; the 150 recorded executions in
// ../shared/asl-conformance all pass.
//
// # Tasks
//
// A Task's Resource resolves to a Handler registered under the Lambda
// function's name (or full ARN): a direct function ARN passes the effective
// input, arn:aws:states:::lambda:invoke passes Parameters.Payload and returns
// Lambda's result shape (Payload, StatusCode, ...), and .waitForTaskToken
// waits for SendTaskSuccess or SendTaskFailure (SendTaskHeartbeat renews
// HeartbeatSeconds). A handler's error becomes the ASL error named after its
// Go type, as the Lambda Go runtime fills errorType; TaskError chooses the
// name and cause. A function with no handler fails the task with
// Lambda.ResourceNotFoundException, unless Options.LambdaEndpoint names a
// Lambda API endpoint that runs it over HTTP (HTTPFunction: a real function
// under aws-lambda-rie, LocalStack or sam local).
//
// # Executions
//
// Executor offers the Step Functions operations — CreateStateMachine(Once),
// Update/Delete/Describe/ListStateMachines, DescribeStateMachineForExecution,
// StartExecution (idempotent by name for STANDARD), DescribeExecution,
// ListExecutions, StopExecution, GetExecutionHistory and ExecutionHistoryPage
// with AWS's event types and details, SendTask* — which package sfnapi serves
// as the Step Functions JSON API; and a status-change callback shaped like EventBridge's "Step
// Functions Execution Status Change". With a database (OpenDB), a STANDARD
// execution writes a checkpoint and its history at every top-level
// transition, records issued task tokens and the finished iterations and
// branches of a running top-level Map or Parallel state, so Resume continues
// it without re-running completed states (an unfinished iteration starts
// over). EXPRESS executions keep no history and run again from the
// start after a restart, as AWS's at-least-once semantics allow. All waiting
// goes through a Clock, so tests use a FakeClock and never sleep.
//
// # Not supported
//
// ItemReader and ResultWriter (Distributed Map over S3), service integrations
// other than Lambda (a handler may be registered under any other Resource
// ARN), and .sync.
package localsfn
