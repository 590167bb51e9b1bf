package render_test

import (
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/jobs/render"
)

// The execution link of a status comment: the Step Functions console of the
// execution's region in AWS, the embedded dashboard under `ai3 dev`.
func ExampleConsoleURL() {
	fmt.Println(render.ConsoleURL("", "arn:aws:states:eu-west-1:123456789012:execution:ai3-deploy:deploy-3f9a1c2"))
	fmt.Println(render.DashboardURL("http://127.0.0.1:8080", "deploy-3f9a1c2"))
	// Output:
	// https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:ai3-deploy:deploy-3f9a1c2
	// http://127.0.0.1:8080/jobs/deploy-3f9a1c2
}
