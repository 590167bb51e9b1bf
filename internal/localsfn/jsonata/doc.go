// Package jsonata evaluates JSONata expressions with the semantics of
// JSONata 2.0, the version AWS Step Functions runs for states whose
// QueryLanguage is JSONata.
//
// Compile parses an expression once; Expr.Eval runs it against values
// decoded by encoding/json. An expression that yields nothing returns
// ErrUndefined, which Step Functions treats differently from null. Errors
// are *Error values carrying JSONata's codes (S0201, T2001, D3030, ...) and
// messages. AWSFunctions adds the functions Step Functions provides
// ($partition, $range, $hash, $random(seed), $uuid, $parse) and refuses
// $eval as AWS does.
//
// # Why our own evaluator
//
// The Go JSONata libraries on the module proxy (github.com/blues/jsonata-go
// v1.5.4 and its fork github.com/xiatechs/jsonata-go v1.8.8) state parity
// with jsonata-js 1.5.4: they lack the 2.0 language additions (the parent
// operator %, the @ focus and # index bindings with their tuple streams),
// evaluate through reflection, and format errors their own way. Extending
// one would mean rewriting its core, so this package is a Pratt parser and
// a tree-walking evaluator written for 2.0 semantics: sequences that flatten
// and collapse singletons, keep-array [], tuple streams for @, # and %,
// grouping and order-by, lambdas, closures, partial application, function
// chaining, transforms, and JSONata's standard library with its signature
// checks.
//
// # Known differences from jsonata-js
//
//   - Object keys have no insertion order in Go maps: wildcards, $keys,
//     $each, $spread, $sift and $string visit keys in sorted order.
//   - Regular expressions run on Go's RE2: look-around and back-references
//     are rejected when the expression is compiled (S0303).
//   - The 2.1 operators ?? and ?: are syntax errors, as in 2.0.
//   - $formatNumber, $formatInteger, $parseInteger and the date-time
//     pictures of $fromMillis/$toMillis cover the common XPath pictures, not
//     every presentation modifier.
package jsonata
