// Command ai3-mvp is the Pulumi program that deploys ai3 to AWS
// (`pulumi up`); see docs/deploy.md.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/infra"
)

func main() {
	pulumi.Run(infra.Deploy)
}
