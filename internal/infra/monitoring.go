package infra

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sbalswa/ai3-mvp/internal/monitor"
)

// PayloadAlarmBytes is the delivery size that raises an alarm: 80% of API
// Gateway's 10 MB request limit, past which GitHub's deliveries are refused.
const PayloadAlarmBytes = 8 * 1024 * 1024

// HealthSchedule is how often the health Lambda runs.
const HealthSchedule = "rate(5 minutes)"

// Monitoring is what tells an operator something is wrong: the dead-letter
// queue and its alert Lambda, the alarms and their topic, the dashboard and
// the scheduled health check.
type Monitoring struct {
	pulumi.ResourceState

	Topic     *sns.Topic
	DLQ       *sqs.Queue
	Alert     *Function
	Health    *Function
	Dashboard *cloudwatch.Dashboard
	// Alarms by short name: api-4xx, api-5xx, dlq-depth, receiver-errors,
	// payload-size, heartbeat.
	Alarms map[string]*cloudwatch.MetricAlarm
	s      *stack
}

// NewMonitoring creates the topic, the DLQ and the alert Lambda on it; Watch
// adds the rest once the watched resources exist.
func NewMonitoring(s *stack, name string) (*Monitoring, error) {
	c := &Monitoring{s: s, Alarms: map[string]*cloudwatch.MetricAlarm{}}
	if err := s.ctx.RegisterComponentResource("ai3:infra:Monitoring", name, c); err != nil {
		return nil, err
	}
	opt := pulumi.Parent(c)
	var err error
	if c.Topic, err = sns.NewTopic(s.ctx, s.name("alarms"), &sns.TopicArgs{Name: pulumi.String(s.name("alarms"))}, opt); err != nil {
		return nil, err
	}
	if s.cfg.AlarmEmail != "" {
		if _, err = sns.NewTopicSubscription(s.ctx, s.name("alarms-email"), &sns.TopicSubscriptionArgs{
			Topic: c.Topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(s.cfg.AlarmEmail),
		}, opt); err != nil {
			return nil, err
		}
	}
	if c.DLQ, err = sqs.NewQueue(s.ctx, s.name("dlq"), &sqs.QueueArgs{
		Name:                    pulumi.String(s.name("dlq")),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		MessageRetentionSeconds: pulumi.Int(14 * 24 * 3600),
		// Longer than the alert Lambda's timeout, as SQS event sources require.
		VisibilityTimeoutSeconds: pulumi.Int(60),
	}, opt); err != nil {
		return nil, err
	}
	if c.Alert, err = s.function(c, FunctionArgs{
		Package: "alert", Description: "Logs and counts every event that reached the dead-letter queue",
		Timeout: 10,
		Policy: []Statement{{Sid: "ConsumeDeadLetters",
			Actions:   []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"},
			Resources: S(c.DLQ.Arn)}},
	}); err != nil {
		return nil, err
	}
	_, err = lambda.NewEventSourceMapping(s.ctx, s.name("alert-dlq"), &lambda.EventSourceMappingArgs{
		EventSourceArn: c.DLQ.Arn, FunctionName: c.Alert.Function.Arn, BatchSize: pulumi.Int(10),
		FunctionResponseTypes: pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
	}, opt)
	return c, err
}

// Watch adds the DLQ's policy (only the stack's rules may send to it), the
// alarms, the dashboard and the scheduled health Lambda.
func (c *Monitoring) Watch(ing *Ingestion) error {
	s := c.s
	opt := pulumi.Parent(c)
	var err error
	if c.Health, err = s.function(c, FunctionArgs{
		Package: "health", Description: "Heartbeat and dependency checks every 5 minutes",
		Env: pulumi.StringMap{"ARCHIVE_BUCKET": ing.Bucket.Bucket, "EVENT_BUS_NAME": ing.Bus.Name, "MARKS_TABLE": ing.Marks.Name},
		Policy: []Statement{
			{Sid: "HeadArchiveBucket", Actions: []string{"s3:ListBucket"}, Resources: S(ing.Bucket.Arn)},
			{Sid: "DescribeBus", Actions: []string{"events:DescribeEventBus"}, Resources: S(ing.Bus.Arn)},
			{Sid: "DescribeMarks", Actions: []string{"dynamodb:DescribeTable"}, Resources: S(ing.Marks.Arn)},
		},
	}); err != nil {
		return err
	}
	rule, err := cloudwatch.NewEventRule(s.ctx, s.name("rule-health"), &cloudwatch.EventRuleArgs{
		Name: pulumi.String(s.name("health")), ScheduleExpression: pulumi.String(HealthSchedule),
		Description: pulumi.String("Runs the health Lambda"),
	}, opt)
	if err != nil {
		return err
	}
	if err := s.target(c, "rule-health", rule, c.Health, c.DLQ.Arn); err != nil {
		return err
	}
	if _, err = sqs.NewQueuePolicy(s.ctx, s.name("dlq"), &sqs.QueuePolicyArgs{
		QueueUrl: c.DLQ.Url,
		Policy: Policy(Statement{
			Sid: "StackRulesDeadLetters", Principal: map[string][]pulumi.StringInput{"Service": S(pulumi.String("events.amazonaws.com"))},
			Actions: []string{"sqs:SendMessage"}, Resources: S(c.DLQ.Arn),
			Condition: map[string]map[string]any{"ArnEquals": {"aws:SourceArn": s.ruleARNs}},
		}),
	}, opt); err != nil {
		return err
	}
	if _, err = cloudwatch.NewLogMetricFilter(s.ctx, s.name("payload-bytes"), &cloudwatch.LogMetricFilterArgs{
		LogGroupName: ing.Receiver.Logs.Name,
		Pattern:      pulumi.String(`{ $.msg = "delivery accepted" }`),
		MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
			Name: pulumi.String("PayloadBytes"), Namespace: pulumi.String(monitor.Namespace), Value: pulumi.String("$.bytes"), Unit: pulumi.String("Bytes"),
		},
	}, opt); err != nil {
		return err
	}
	api := pulumi.StringMap{"ApiName": ing.API.Name, "Stage": pulumi.String(StageName)}
	alarms := []struct {
		key, metric, namespace, stat, cmp, missing, what string
		threshold                                        float64
		periods, period                                  int
		dims                                             pulumi.StringMap
	}{
		{"api-4xx", "4XXError", "AWS/ApiGateway", "Sum", "GreaterThanThreshold", "notBreaching", "API answers 4XX (bad signatures, WAF blocks, payloads over 10 MB)", 50, 1, 300, api},
		{"api-5xx", "5XXError", "AWS/ApiGateway", "Sum", "GreaterThanThreshold", "notBreaching", "API answers 5XX: GitHub will redeliver, investigate the receiver", 0, 1, 300, api},
		{"dlq-depth", "ApproximateNumberOfMessagesVisible", "AWS/SQS", "Maximum", "GreaterThanThreshold", "notBreaching", "Events a handler could not process are waiting in the DLQ", 0, 1, 300, pulumi.StringMap{"QueueName": c.DLQ.Name}},
		{"receiver-errors", "Errors", "AWS/Lambda", "Sum", "GreaterThanThreshold", "notBreaching", "The webhook receiver Lambda fails", 0, 1, 300, pulumi.StringMap{"FunctionName": ing.Receiver.Function.Name}},
		{"payload-size", "PayloadBytes", monitor.Namespace, "Maximum", "GreaterThanOrEqualToThreshold", "notBreaching", "A delivery came near API Gateway's 10 MB limit", PayloadAlarmBytes, 1, 300, nil},
		{"heartbeat", "Heartbeat", monitor.Namespace, "Sum", "LessThanThreshold", "breaching", "The health Lambda stopped beating", 1, 3, 300, nil},
	}
	for _, a := range alarms {
		if c.Alarms[a.key], err = cloudwatch.NewMetricAlarm(s.ctx, s.name(a.key), &cloudwatch.MetricAlarmArgs{
			Name: pulumi.String(s.name(a.key)), AlarmDescription: pulumi.String(a.what),
			MetricName: pulumi.String(a.metric), Namespace: pulumi.String(a.namespace), Statistic: pulumi.String(a.stat),
			ComparisonOperator: pulumi.String(a.cmp), Threshold: pulumi.Float64(a.threshold),
			EvaluationPeriods: pulumi.Int(a.periods), Period: pulumi.Int(a.period), Dimensions: a.dims,
			TreatMissingData: pulumi.String(a.missing),
			AlarmActions:     pulumi.Array{c.Topic.Arn}, OkActions: pulumi.Array{c.Topic.Arn},
		}, opt); err != nil {
			return err
		}
	}
	return c.dashboard(ing)
}

// dashboard shows the API, the Lambdas' errors, the DLQ and the payloads.
func (c *Monitoring) dashboard(ing *Ingestion) error {
	s := c.s
	body := pulumi.All(ing.API.Name, c.DLQ.Name, ing.Receiver.Function.Name).ApplyT(func(v []any) (string, error) {
		api, dlq, receiver := v[0].(string), v[1].(string), v[2].(string)
		widget := func(title string, x, y int, metrics ...[]any) map[string]any {
			return map[string]any{"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
				"properties": map[string]any{"title": title, "region": s.region, "stat": "Sum", "period": 300, "metrics": metrics}}
		}
		b, err := json.Marshal(map[string]any{"widgets": []any{
			widget("API requests and errors", 0, 0,
				[]any{"AWS/ApiGateway", "Count", "ApiName", api, "Stage", StageName},
				[]any{"AWS/ApiGateway", "4XXError", "ApiName", api, "Stage", StageName},
				[]any{"AWS/ApiGateway", "5XXError", "ApiName", api, "Stage", StageName}),
			widget("Receiver", 12, 0,
				[]any{"AWS/Lambda", "Invocations", "FunctionName", receiver},
				[]any{"AWS/Lambda", "Errors", "FunctionName", receiver}),
			widget("Dead letters", 0, 6,
				[]any{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq, map[string]any{"stat": "Maximum"}},
				// the alert's DeadLetters has a Target dimension: sum every target
				[]any{map[string]any{"id": "dl", "label": "DeadLetters (all targets)",
					"expression": `SUM(SEARCH('{` + monitor.Namespace + `,Target} MetricName="DeadLetters"', 'Sum', 300))`}}),
			widget("Payload size (bytes) and heartbeat", 12, 6,
				[]any{monitor.Namespace, "PayloadBytes", map[string]any{"stat": "Maximum"}},
				[]any{monitor.Namespace, "Heartbeat"}),
		}})
		return string(b), err
	}).(pulumi.StringOutput)
	var err error
	c.Dashboard, err = cloudwatch.NewDashboard(s.ctx, s.name("dashboard"), &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(s.name("dashboard")), DashboardBody: body,
	}, pulumi.Parent(c))
	return err
}
