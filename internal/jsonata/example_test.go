package jsonata_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/jsonata"
)

// The executor compiles an expression once per state field and evaluates it
// with the $states variable.
func ExampleCompile() {
	expr, err := jsonata.Compile(`$states.input.order.items[price > 10].{ "sku": sku, "total": price * qty }`, jsonata.AWSFunctions())
	if err != nil {
		fmt.Println(err)
		return
	}
	var input any
	_ = json.Unmarshal([]byte(`{"order": {"items": [
		{"sku": "a", "price": 5, "qty": 1},
		{"sku": "b", "price": 20, "qty": 3}]}}`), &input)
	out, err := expr.Eval(nil, map[string]any{"states": map[string]any{"input": input}})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	// Output: {"sku":"b","total":60}
}

// An expression that selects nothing is undefined, not null.
func ExampleExpr_Eval_undefined() {
	expr, _ := jsonata.Compile("$states.input.missing")
	_, err := expr.Eval(nil, map[string]any{"states": map[string]any{"input": map[string]any{}}})
	fmt.Println(errors.Is(err, jsonata.ErrUndefined))
	// Output: true
}

// Errors carry JSONata's code and the position in the expression.
func ExampleError() {
	_, err := jsonata.Compile("$states.input.a +")
	var jerr *jsonata.Error
	if errors.As(err, &jerr) {
		fmt.Println(jerr.Code, jerr.Position, jerr.Message)
	}
	// Output: S0207 17 Unexpected end of expression
}
