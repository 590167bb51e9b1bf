// Package jsonata evaluates JSONata expressions with the semantics of
// jsonata-js 2.0.6, the release AWS Step Functions documents for states
// whose QueryLanguage is JSONata.
//
// Compile parses an expression once; Expr.Eval runs it against values
// decoded by encoding/json (float64 or json.Number numbers). An expression
// that yields nothing returns ErrUndefined, which Step Functions treats
// differently from null; pass Undefined{} as the input to evaluate with no
// context value. Errors are *Error values carrying JSONata's codes (S0201,
// T2001, D3030, ...), positions and messages. AWSFunctions adds the
// functions Step Functions provides ($partition, $range, $hash,
// $random(seed), $uuid, $parse) and refuses $eval at compile time, as AWS
// does; WithFunction registers others.
//
// # Why our own evaluator
//
// The Go JSONata libraries on the module proxy (github.com/blues/jsonata-go
// v1.5.4 and its fork github.com/xiatechs/jsonata-go v1.8.8) state parity
// with jsonata-js 1.5.4: they lack the 2.0 language (the parent operator %,
// the @ focus and # index bindings with their tuple streams), evaluate
// through reflection, and word errors their own way. Extending one would
// mean rewriting its core, so this package is a Pratt parser and a
// tree-walking evaluator written for 2.0 semantics: sequences that flatten
// and collapse singletons, keep-array [], tuple streams for @, # and %,
// grouping and order-by, lambdas, closures, partial application, function
// chaining, tail calls in constant stack, transforms, and the standard
// library with JSONata's signature checks.
//
// The tests hold it to the reference: 1200 expressions in
// testdata/differential.txt give the value, undefined, or error code,
// message and position that jsonata-js 2.0.6 gives (recorded in
// differential.golden.json; JSONATA_REFERENCE=<folder of jsonata@2.0.6>
// go test -update re-records them). Where 2.0.6 fails with a JavaScript
// exception rather than a JSONata error, we fail too, with code "JS".
//
// # Known differences from jsonata-js
//
//   - Object keys have no insertion order in Go maps: wildcards, $keys,
//     $each, $spread, $sift and $string visit keys in sorted order.
//   - Regular expressions run on Go's RE2: look-around, back-references and
//     JavaScript-only syntax fail when the expression is compiled (S0303).
//   - The 2.1 operators ?? and ?: are syntax errors, as in 2.0.
//   - A function as the final result is returned as an internal value; it
//     has no JSON form (jsonata-js returns its internal object).
//   - $formatNumber, $formatInteger, $parseInteger and the date-time
//     pictures cover the XPath pictures in common use; malformed pictures
//     are not rejected with jsonata-js's D308x/D313x codes.
//   - Recursion is limited to 10000 nested calls (U1001), an evaluation to
//     1000000 function calls (U1002) and strings built by & or $pad to
//     64 MiB (U1003); EvalContext stops on cancellation. There is no other
//     memory budget.
package jsonata
