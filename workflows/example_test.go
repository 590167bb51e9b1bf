package workflows_test

import (
	"fmt"

	"github.com/sbalswa/ai3-mvp/workflows"
)

// Each workflow compiles to a state machine of its type; tasks resolve to
// the ARNs the caller chooses (here the placeholders `ai3 workflows build` uses).
func ExampleDefinition() {
	for _, name := range workflows.Names() {
		def, typ, err := workflows.Definition(name, workflows.PlaceholderARN)
		if err != nil {
			fmt.Println(err)
			return
		}
		w, _ := workflows.Get(name)
		plan, _ := w.Plan()
		fmt.Printf("%s %s %t: %s\n", name, typ, len(def) > 0, plan)
	}
	// Output:
	// checks EXPRESS true: (title | diff_size | labels | mergeable) ; summary
	// ci STANDARD true: lint | (unit ; integration)
	// deploy STANDARD true: build ; approval ; deploy_staging ; smoke_test ; deploy_production
}
