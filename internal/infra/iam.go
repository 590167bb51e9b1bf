package infra

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Statement is one Allow statement of an IAM (or resource) policy. Actions
// are always named (never "*"); Resources are the ARNs it applies to.
type Statement struct {
	Sid       string
	Actions   []string
	Resources []pulumi.StringInput
	// Principal is set in resource policies only: {"Service": [...]} or
	// {"AWS": [...]}.
	Principal map[string][]pulumi.StringInput
	// Condition is the IAM condition block; string values may be
	// pulumi.StringInput and are resolved.
	Condition map[string]map[string]any
}

// policyDocument is the JSON form of a policy.
type policyDocument struct {
	Version   string          `json:"Version"`
	Statement []jsonStatement `json:"Statement"`
}

type jsonStatement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string][]string       `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Policy renders statements as a policy document once every ARN in them is
// known.
func Policy(stmts ...Statement) pulumi.StringOutput {
	// Flatten every input into one list; each statement remembers where its
	// values sit in it.
	var inputs []any
	add := func(v pulumi.StringInput) int { inputs = append(inputs, v); return len(inputs) - 1 }
	type slots struct {
		res   []int
		princ map[string][]int
		cond  map[string]map[string]any // values: int slot, []int slots, or a literal
	}
	all := make([]slots, len(stmts))
	for i, s := range stmts {
		for _, r := range s.Resources {
			all[i].res = append(all[i].res, add(r))
		}
		all[i].princ = map[string][]int{}
		for k, ps := range s.Principal {
			for _, p := range ps {
				all[i].princ[k] = append(all[i].princ[k], add(p))
			}
		}
		all[i].cond = map[string]map[string]any{}
		for op, kv := range s.Condition {
			all[i].cond[op] = map[string]any{}
			for k, v := range kv {
				switch v := v.(type) {
				case pulumi.StringInput:
					all[i].cond[op][k] = add(v)
				case []pulumi.StringInput:
					var idx []int
					for _, e := range v {
						idx = append(idx, add(e))
					}
					all[i].cond[op][k] = idx
				default:
					all[i].cond[op][k] = literal{v}
				}
			}
		}
	}
	return pulumi.All(inputs...).ApplyT(func(vals []any) (string, error) {
		str := func(i int) string { s, _ := vals[i].(string); return s }
		doc := policyDocument{Version: "2012-10-17"}
		for i, s := range stmts {
			js := jsonStatement{Sid: s.Sid, Effect: "Allow", Action: s.Actions, Resource: []string{}}
			for _, r := range all[i].res {
				js.Resource = append(js.Resource, str(r))
			}
			if len(all[i].princ) > 0 {
				js.Principal = map[string][]string{}
				for k, idx := range all[i].princ {
					for _, j := range idx {
						js.Principal[k] = append(js.Principal[k], str(j))
					}
				}
			}
			if len(all[i].cond) > 0 {
				js.Condition = map[string]map[string]any{}
				for op, kv := range all[i].cond {
					js.Condition[op] = map[string]any{}
					for k, v := range kv {
						switch v := v.(type) {
						case int:
							js.Condition[op][k] = str(v)
						case []int:
							var out []string
							for _, j := range v {
								out = append(out, str(j))
							}
							js.Condition[op][k] = out
						case literal:
							js.Condition[op][k] = v.v
						}
					}
				}
			}
			if len(js.Action) == 0 || len(js.Resource) == 0 {
				return "", fmt.Errorf("policy statement %q has no action or no resource", s.Sid)
			}
			doc.Statement = append(doc.Statement, js)
		}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
}

type literal struct{ v any }

// assumeRole is the trust policy letting service assume a role.
func assumeRole(service string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]string{"Service": service},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// S is shorthand for a list of ARNs.
func S(in ...pulumi.StringInput) []pulumi.StringInput { return in }
