package infra

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/aws/jobs"
)

// jobsTable is the layout the jobs store expects, read from
// jobs.TableInput: its keys and indexes, with TTL and point-in-time recovery.
func jobsTable() TableSpec {
	in := jobs.TableInput("")
	spec := TableSpec{Suffix: "jobs", TTL: jobs.TTLAttribute, PITR: true}
	hashRange := func(ks []types.KeySchemaElement) (hash, rng string) {
		for _, k := range ks {
			if k.KeyType == types.KeyTypeHash {
				hash = aws.ToString(k.AttributeName)
			} else {
				rng = aws.ToString(k.AttributeName)
			}
		}
		return hash, rng
	}
	spec.Hash, spec.Range = hashRange(in.KeySchema)
	for _, g := range in.GlobalSecondaryIndexes {
		h, r := hashRange(g.KeySchema)
		spec.Indexes = append(spec.Indexes, IndexSpec{Name: aws.ToString(g.IndexName), Hash: h, Range: r, Projection: string(g.Projection.ProjectionType)})
	}
	return spec
}

// TableSpec is one DynamoDB table: on-demand, string keys, encrypted.
type TableSpec struct {
	Suffix string // physical name is "ai3-<stack>-<Suffix>"
	Hash   string
	Range  string // no sort key when empty
	TTL    string // no time-to-live when empty
	PITR   bool
	// KMSKey encrypts the table with a customer key; AWS's own key when nil.
	KMSKey  pulumi.StringInput
	Indexes []IndexSpec
}

// IndexSpec is a global secondary index; Projection is ALL when empty.
type IndexSpec struct{ Name, Hash, Range, Projection string }

func (s *stack) table(parent pulumi.Resource, t TableSpec) (*dynamodb.Table, error) {
	attrs := dynamodb.TableAttributeArray{}
	seen := map[string]bool{}
	attr := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			attrs = append(attrs, dynamodb.TableAttributeArgs{Name: pulumi.String(name), Type: pulumi.String("S")})
		}
	}
	attr(t.Hash)
	attr(t.Range)
	var gsis dynamodb.TableGlobalSecondaryIndexArray
	for _, ix := range t.Indexes {
		attr(ix.Hash)
		attr(ix.Range)
		proj := ix.Projection
		if proj == "" {
			proj = "ALL"
		}
		g := dynamodb.TableGlobalSecondaryIndexArgs{Name: pulumi.String(ix.Name), HashKey: pulumi.String(ix.Hash), ProjectionType: pulumi.String(proj)}
		if ix.Range != "" {
			g.RangeKey = pulumi.String(ix.Range)
		}
		gsis = append(gsis, g)
	}
	args := &dynamodb.TableArgs{
		Name:                   pulumi.String(s.name(t.Suffix)),
		BillingMode:            pulumi.String("PAY_PER_REQUEST"),
		HashKey:                pulumi.String(t.Hash),
		Attributes:             attrs,
		PointInTimeRecovery:    &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(t.PITR)},
		ServerSideEncryption:   &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(t.KMSKey != nil), KmsKeyArn: t.KMSKey},
		GlobalSecondaryIndexes: gsis,
	}
	if t.Range != "" {
		args.RangeKey = pulumi.String(t.Range)
	}
	if t.TTL != "" {
		args.Ttl = &dynamodb.TableTtlArgs{AttributeName: pulumi.String(t.TTL), Enabled: pulumi.Bool(true)}
	}
	return dynamodb.NewTable(s.ctx, s.name(t.Suffix), args, pulumi.Parent(parent))
}

// tableActions are the item operations of a store adapter.
var tableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}
