package localsfn_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// An executor runs ASL with Go handlers standing in for Lambda functions.
func ExampleExecutor_Run() {
	ctx := context.Background()
	ex, err := localsfn.New(ctx, localsfn.Options{
		Handlers: map[string]localsfn.Handler{
			"greet": func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
				var p struct{ Who string }
				if err := json.Unmarshal(in, &p); err != nil {
					return nil, err
				}
				return json.Marshal("hello " + p.Who)
			},
		},
	})
	if err != nil {
		panic(err)
	}
	defer ex.Close()
	def := `{"StartAt":"Greet","States":{"Greet":{"Type":"Task",
	  "Resource":"arn:aws:states:::lambda:invoke",
	  "Parameters":{"FunctionName":"greet","Payload":{"Who.$":"States.Format('{} team', $.team)"}},
	  "ResultSelector":{"message.$":"$.Payload"},"End":true}}}`
	d, err := ex.Run(ctx, "hello", []byte(def), localsfn.Express, `{"team":"ai3"}`)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Status, d.Output)
	// Output: SUCCEEDED {"message":"hello ai3 team"}
}

// A Task that names no registered function fails the execution as AWS fails
// a call to a function that does not exist.
func ExampleExecutor_Run_unknownFunction() {
	ctx := context.Background()
	ex, _ := localsfn.New(ctx, localsfn.Options{})
	defer ex.Close()
	def := `{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:missing","End":true}}}`
	d, _ := ex.Run(ctx, "missing", []byte(def), localsfn.Standard, `{}`)
	fmt.Println(d.Status, d.Error)
	// Output: FAILED Lambda.ResourceNotFoundException
}
