package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// alarms raise on anything that means mail or events are not flowing: a message in any
// dead-letter queue, or a function error. They notify one topic, which the alarm e-mail address
// (if given) subscribes to; more subscribers can be added to it by hand.
type alarms struct {
	stack  awscdk.Stack
	action awscloudwatch.IAlarmAction
}

func newAlarms(s awscdk.Stack, cfg Config) alarms {
	topic := awssns.NewTopic(s, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(cfg.StackName + " alarms"),
	})
	if cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	awscdk.NewCfnOutput(s, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("SNS topic that receives Pigeon's alarms"),
		Value:       topic.TopicArn(),
	})
	return alarms{stack: s, action: awscloudwatchactions.NewSnsAction(topic)}
}

// onDeadLetters alarms as soon as a message is waiting in q.
func (a alarms) onDeadLetters(id string, q awssqs.IQueue, what string) {
	a.add(id, q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Minutes(jsii.Number(5)),
		Statistic: jsii.String("Maximum"),
	}), what+" has messages: they were given up on and need a look (and a redrive)")
}

// onErrors alarms on any function error (an invocation that returned an error or crashed).
func (a alarms) onErrors(name string, fn awslambda.Function) {
	a.add(exportName(name)+"Errors", fn.MetricErrors(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Minutes(jsii.Number(5)),
		Statistic: jsii.String("Sum"),
	}), "the "+name+" function reported errors; see its log group")
}

func (a alarms) add(id string, m awscloudwatch.Metric, description string) {
	alarm := m.CreateAlarm(a.stack, jsii.String(id+"Alarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(a.action)
}
