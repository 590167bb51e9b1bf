// Package asl models the Amazon States Language (both query languages,
// JSONPath and JSONata, and workflow variables), builds state machines with
// a typed fluent builder, compiles workflow DAGs to Chain/Parallel
// structure, and validates definitions. It is pure: no I/O, no AWS. It
// imports one package of ai3, internal/jsonata, deliberately: that
// evaluator is a leaf that imports only the standard library, shared with
// the executor (internal/localsfn), so that an expression that does not
// parse is a build error here rather than a failed execution later.
//
// # Query languages and variables
//
// A machine's QueryLanguage (JSONPath when empty) applies to every state;
// a state may set its own, but only a JSONPath machine may hold JSONata
// states, never the reverse. JSONata states shape data with Arguments and
// Output and write "{% … %}" expressions (see Expr) in Assign, Items,
// ItemSelector, Choice rules (Cond), Wait Seconds/Timestamp, Task
// TimeoutSeconds/HeartbeatSeconds, Fail Error/Cause, MaxConcurrency and the
// tolerated failures; the numeric fields' expressions live in the …Expr
// fields and are written under the field's own name. The validator compiles
// every expression, refuses JSONPath-only fields (InputPath, Parameters,
// ResultSelector, ResultPath, OutputPath, the …Path fields) in a JSONata
// state and JSONata-only ones in a JSONPath state, and checks Assign keys
// (identifiers of at most 80 characters, not "states") and that no Parallel
// branch or Map iteration assigns a variable an enclosing scope declares.
// JSONPath paths may read variables ($name.field) wherever they may read
// the context ($$).
//
// On the builder: MachineBuilder.QueryLanguage and each state's
// QueryLanguage, Assign, Output and (Task, Parallel) Arguments; Map.Items;
// Cond(Expr("…")) for a JSONata Choice rule and WhenRule for a rule that
// also assigns or shapes the output; CatchTo for a catcher with Output or
// Assign; WaitSecondsExpr, WaitUntilExpr, TimeoutExpr, HeartbeatExpr and
// the Map …Expr setters for numeric fields computed by JSONata.
//
// The DAG compiler does not use variables: a Parallel branch cannot assign
// a variable of the machine, so step results leaving a branch still travel
// in its output, and the JsonMerge of $.steps stays the simplest way to
// join them; compiled definitions are unchanged.
//
// # Model
//
// StateMachine, Branch and the state types (Task, Pass, Choice, Wait,
// Succeed, Fail, Parallel, Map, and Raw for JSON written by hand) mirror the
// language field by field. Path distinguishes an absent path from an explicit
// null (P("$.x"), Null(), zero value). JSON output is deterministic: struct
// fields in a fixed order, states in authoring order, template keys sorted.
// Parse reads JSON back, keeping state order and reporting duplicate keys,
// which encoding/json alone would silently collapse to the last one.
//
// # Builder
//
// NewTask, NewLambdaInvoke, NewPass, NewWait, NewChoice, NewParallel,
// NewMap, NewSucceed, NewFail and NewRaw create states; Next and Sequence
// chain them like CDK's Chain; Choice.When takes typed conditions
// (StringEquals("$.env", "prod"), And, Not, ...). NewStateMachine(...).Build()
// fills Next/End, and validates everything, returning a *ValidationError
// that lists every problem with the path of its state.
//
// # Workflows: DAG to states
//
// NewWorkflow(name, Express|Standard) with Step(name, task).Needs(...)
// describes a DAG. Compile checks it (names, unknown needs, cycles — all
// reported at once), schedules it, and emits: a Start Pass state that keeps
// the input at $.input and an empty $.steps; one Task per step whose result
// lands at $.steps.<name> as {"output": <the Lambda's response, or the
// callback's output for .waitForTaskToken steps>}; every step's payload
// holds workflow, step, execution, input and the steps so far; a Catch on every step that (optionally) reports
// the failure and then ends the execution in a Fail state with Error
// "ai3.StepFailed" and a Cause naming the step. A Parallel state merges its
// branches' $.steps with a balanced tree of States.JsonMerge calls.
//
// # Scheduling algorithm and guarantee
//
// ASL can only express series-parallel structure (Chain and Parallel), while
// a DAG is any partial order. The scheduler decomposes the order the DAG
// induces (reachability, held as bitset rows of the transitive closure):
//
// The steps are numbered in a topological order (longest-path level, then
// declaration order), so every prefix of a convex set is a down-set. Then
// decompose(S), for a convex set S (reachability between its members never
// leaves it; the whole DAG to start with), returns a leaf for one step and
// otherwise tries, in order:
//
//   - Parallel: S falls into weakly connected components C1..Ck, k > 1.
//     It becomes Parallel(C1..Ck); no ordering is added.
//   - Series: S's order has cuts where everything before precedes
//     everything after (found in one pass: per step, the first member of S
//     that is not its ancestor, and a suffix minimum). S becomes
//     Series(parts); no ordering is added.
//   - Cut: S is "prime" (it contains an N: a<c, b<c, b<d, a∦d), and no
//     series-parallel schedule keeps its order exactly. S is cut into a
//     down-set P and the rest Q, all of P running before Q. Candidates are
//     the prefixes of two topological orders of S, as soon as possible (the
//     numbering) and as late as possible (by longest path to a sink), that
//     leave at least |S|/16 steps on each side; the one adding the fewest
//     new ordering pairs |P|·|Q| − #{p<q comparable} wins, counted
//     incrementally (moving v into P adds its descendants and removes its
//     ancestors within S); ties go to the most balanced cut.
//
// Each part is decomposed recursively; nested parts of the same kind are
// flattened. The balance bound keeps the recursion O(log n) deep
// (unrestricted, the cheapest cut is often next to an end and peels one step
// per level: up to 60 times slower for 0–4% fewer pairs); the second order
// finds 15–40% fewer added pairs than the first alone on the benchmark's
// DAGs, for about 1.8 times the scheduling time.
//
// Guarantees, checked by property tests over random DAGs:
//   - correct: every step runs exactly once and never before all its needs
//     succeeded (a step follows its needs in some Chain);
//   - exact for series-parallel DAGs: when the DAG's order is
//     series-parallel (N-free), the schedule's order equals it — no step
//     waits for a step it does not (transitively) need, so the parallel
//     width is preserved;
//   - otherwise waiting is added only inside prime components, one cut at a
//     time, each cut the cheapest balanced prefix cut; on the benchmark's
//     random DAGs that is 2 to 3 times fewer added pairs than running the
//     DAG level by level (a test keeps it at most half). Finding the series-parallel
//     extension with the fewest added pairs is NP-hard in general; this is
//     a greedy approximation, not an optimum.
//
// Cost: the closure takes O(E·n/64) word operations and n²/4 bytes (25 MB
// for 10,000 steps); each decomposition level scans its sets' members over
// their span, O(n·n/64) per level, O(log n) prime levels. That is n²/64 word
// operations — small constants make it near-linear in practice up to 10,000
// steps (see BenchmarkSchedule), but it is quadratic asymptotically.
package asl
