package sfnapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

const passDef = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"v":1},"End":true}}}`
const pass2Def = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"v":2},"End":true}}}`

func TestStateMachineLifecycle(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	arn := a.create(t, "m1", passDef, "")
	if arn != "arn:aws:states:us-east-1:000000000000:stateMachine:m1" {
		t.Fatalf("arn %s", arn)
	}
	d1, err := a.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d1.Definition) != passDef || d1.Type != types.StateMachineTypeStandard || aws.ToString(d1.RoleArn) != role ||
		d1.Status != types.StateMachineStatusActive || aws.ToString(d1.Name) != "m1" || d1.CreationDate == nil {
		t.Fatalf("describe: %+v", d1)
	}

	// Creating it again the same way is idempotent; differently, refused.
	again, err := a.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m1"), Definition: aws.String(passDef), RoleArn: aws.String(role)})
	if err != nil || aws.ToString(again.StateMachineArn) != arn || !again.CreationDate.Equal(*d1.CreationDate) {
		t.Fatalf("idempotent create: %+v, %v", again, err)
	}
	_, err = a.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m1"), Definition: aws.String(pass2Def), RoleArn: aws.String(role)})
	var exists *types.StateMachineAlreadyExists
	if !errors.As(err, &exists) || !strings.Contains(exists.ErrorMessage(), arn) {
		t.Fatalf("create with another definition: %v, want StateMachineAlreadyExists naming %s", err, arn)
	}

	// An execution started before an update keeps its definition.
	waitDef := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	warn := a.create(t, "waiter", waitDef, "")
	running := a.start(t, warn, "", "{}")
	if _, err := a.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(warn), Definition: aws.String(passDef)}); err != nil {
		t.Fatal(err)
	}
	forExec, err := a.client.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(running)})
	if err != nil || aws.ToString(forExec.Definition) != waitDef {
		t.Fatalf("describe for execution: %v %v, want the definition it started with", forExec, err)
	}
	now, _ := a.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(warn)})
	if aws.ToString(now.Definition) != passDef {
		t.Fatalf("after update: %s", aws.ToString(now.Definition))
	}
	// An update with an invalid definition changes nothing.
	_, err = a.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(warn), Definition: aws.String(`{"StartAt":"X","States":{}}`)})
	var invalid *types.InvalidDefinition
	if !errors.As(err, &invalid) {
		t.Fatalf("invalid update: %v", err)
	}
	if still, _ := a.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(warn)}); aws.ToString(still.Definition) != passDef {
		t.Fatalf("a refused update changed the definition: %s", aws.ToString(still.Definition))
	}

	// Listing, one per page, in name order.
	a.create(t, "a-first", passDef, types.StateMachineTypeExpress)
	var names []string
	p := sfn.NewListStateMachinesPaginator(a.client, &sfn.ListStateMachinesInput{MaxResults: 1})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range page.StateMachines {
			names = append(names, aws.ToString(m.Name)+"/"+string(m.Type))
		}
	}
	if strings.Join(names, ",") != "a-first/EXPRESS,m1/STANDARD,waiter/STANDARD" || pages < 3 {
		t.Fatalf("list: %v in %d pages", names, pages)
	}

	// Delete: gone for Describe and StartExecution; its running execution goes on.
	if _, err := a.client.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(warn)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(warn)})
	var missing *types.StateMachineDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("describe deleted: %v", err)
	}
	_, err = a.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(warn)})
	if !errors.As(err, &missing) {
		t.Fatalf("start deleted: %v", err)
	}
	if d, err := a.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(running)}); err != nil || d.Status != types.ExecutionStatusRunning {
		t.Fatalf("execution of a deleted machine: %v %v", d, err)
	}
}

func TestValidateStateMachineDefinition(t *testing.T) {
	a := newAPI(t, localsfn.Options{})
	ctx := context.Background()
	ok, err := a.client.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passDef)})
	if err != nil || ok.Result != types.ValidateStateMachineDefinitionResultCodeOk || len(ok.Diagnostics) != 0 {
		t.Fatalf("valid definition: %+v %v", ok, err)
	}
	bad := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"},"B":{"Type":"Succeed"}}}`
	res, err := a.client.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(bad)})
	if err != nil || res.Result != types.ValidateStateMachineDefinitionResultCodeFail {
		t.Fatalf("invalid definition: %+v %v", res, err)
	}
	codes := map[string]string{}
	for _, d := range res.Diagnostics {
		codes[aws.ToString(d.Code)] = aws.ToString(d.Location)
		if d.Severity != types.ValidateStateMachineDefinitionSeverityError || aws.ToString(d.Message) == "" {
			t.Errorf("diagnostic %+v", d)
		}
	}
	if !strings.HasPrefix(codes["MISSING_TRANSITION_TARGET"], "/States/A") {
		t.Errorf("diagnostics %v: want MISSING_TRANSITION_TARGET at /States/A", codes)
	}
	if _, ok := codes["UNREACHABLE_STATE"]; !ok {
		t.Errorf("diagnostics %v: want UNREACHABLE_STATE for B", codes)
	}
	// CreateStateMachine refuses the same definition with the same words.
	_, err = a.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(bad), RoleArn: aws.String(role)})
	var invalid *types.InvalidDefinition
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "MISSING_TRANSITION_TARGET") || !strings.Contains(invalid.ErrorMessage(), "at /States/A") {
		t.Fatalf("create: %v", err)
	}
	if list, _ := a.client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); len(list.StateMachines) != 0 {
		t.Fatalf("a refused definition was created: %+v", list.StateMachines)
	}
}
