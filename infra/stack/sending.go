package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

// sendingEvents are the SES events sesevents turns into message status. Open, click and
// subscription events are left out: Pigeon does not rewrite links or add tracking pixels.
var sendingEvents = []awsses.EmailSendingEvent{
	awsses.EmailSendingEvent_SEND,
	awsses.EmailSendingEvent_REJECT,
	awsses.EmailSendingEvent_BOUNCE,
	awsses.EmailSendingEvent_COMPLAINT,
	awsses.EmailSendingEvent_DELIVERY,
	awsses.EmailSendingEvent_DELIVERY_DELAY,
	awsses.EmailSendingEvent_RENDERING_FAILURE,
}

// newSending creates the configuration set every send names, publishing its events to topic
// (CDK adds the topic policy for ses.amazonaws.com with aws:SourceAccount and aws:SourceArn), and,
// unless turned off, an Easy DKIM domain identity per configured domain with its DKIM records as
// outputs.
func newSending(s awscdk.Stack, cfg Config, topic awssns.Topic) {
	cs := awsses.NewConfigurationSet(s, jsii.String("ConfigurationSet"), &awsses.ConfigurationSetProps{
		ConfigurationSetName: jsii.String(cfg.ConfigurationSetName()),
		ReputationMetrics:    jsii.Bool(true),
		SendingEnabled:       jsii.Bool(true),
	})
	cs.AddEventDestination(jsii.String("Events"), &awsses.ConfigurationSetEventDestinationOptions{
		Destination: awsses.EventDestination_SnsTopic(topic),
		Events:      &sendingEvents,
	})

	if !cfg.CreateIdentities {
		return
	}
	for i, domain := range cfg.Domains {
		identity := awsses.NewEmailIdentity(s, jsii.String(fmt.Sprintf("Domain%d", i)), &awsses.EmailIdentityProps{
			Identity:         awsses.Identity_Domain(jsii.String(domain)),
			ConfigurationSet: cs,
		})
		for j, rec := range *identity.DkimRecords() {
			awscdk.NewCfnOutput(s, jsii.String(fmt.Sprintf("Domain%dDkim%d", i, j+1)), &awscdk.CfnOutputProps{
				Description: jsii.String("DKIM CNAME record for " + domain + " (name CNAME value)"),
				Value:       awscdk.Fn_Join(jsii.String(" "), &[]*string{rec.Name, jsii.String("CNAME"), rec.Value}),
			})
		}
	}
}
