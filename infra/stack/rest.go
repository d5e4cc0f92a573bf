package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// newRestAPI puts api behind a Regional REST API as a Lambda proxy: ANY on / and on {proxy+}, so
// <RestUrl>/v0/... reaches every route with the path (without the stage) in the event. Binary
// media type */* lets raw messages and attachments pass in both directions (request bodies then
// arrive base64-encoded, isBase64Encoded=true). It returns the URL to give SDKs as
// environment.http: the stage URL without a trailing slash, or the custom domain.
func newRestAPI(s awscdk.Stack, cfg Config, api awslambda.Function) *string {
	accessLogs := awslogs.NewLogGroup(s, jsii.String("RestAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	props := &awsapigateway.LambdaRestApiProps{
		Handler:          api,
		Proxy:            jsii.Bool(true),
		RestApiName:      jsii.String(cfg.StackName),
		Description:      jsii.String("Pigeon REST API (AgentMail v0 compatible)"),
		BinaryMediaTypes: jsii.Strings("*/*"),
		EndpointTypes:    &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		// Access logs need the account-level API Gateway CloudWatch role; this creates it.
		CloudWatchRole: jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(cfg.Stage),
			ThrottlingRateLimit:  jsii.Number(float64(cfg.APIRateLimit)),
			ThrottlingBurstLimit: jsii.Number(float64(cfg.APIBurstLimit)),
			MetricsEnabled:       jsii.Bool(true),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(false), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
				RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
				Status: jsii.Bool(true), User: jsii.Bool(false),
			}),
		},
	}
	custom := cfg.APIDomain != "" && !cfg.LocalStack
	if custom {
		props.DomainName = &awsapigateway.DomainNameOptions{
			DomainName:     jsii.String(cfg.APIDomain),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(s, jsii.String("ApiCertificate"), jsii.String(cfg.APICertificateARN)),
			EndpointType:   awsapigateway.EndpointType_REGIONAL,
			SecurityPolicy: awsapigateway.SecurityPolicy_TLS_1_2,
		}
	}
	rest := awsapigateway.NewLambdaRestApi(s, jsii.String("Rest"), props)
	// CDK's own "Endpoint" output ends in "/", which would make SDK URLs "…/prod//v0/…"; RestUrl
	// replaces it.
	rest.Node().TryRemoveChild(jsii.String("Endpoint"))
	if custom {
		awscdk.NewCfnOutput(s, jsii.String("ApiDomainTarget"), &awscdk.CfnOutputProps{
			Description: jsii.String("Point " + cfg.APIDomain + " here (CNAME or alias record)"),
			Value:       rest.DomainName().DomainNameAliasDomainName(),
		})
		return jsii.String("https://" + cfg.APIDomain)
	}
	if cfg.LocalStack {
		// LocalStack serves REST APIs on its own host name, not on execute-api.{region}.amazonaws.com.
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("http://"), rest.RestApiId(), jsii.String(".execute-api.localhost.localstack.cloud:4566/"), rest.DeploymentStage().StageName(),
		})
	}
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), rest.RestApiId(), jsii.String(".execute-api."), awscdk.Aws_REGION(),
		jsii.String("."), awscdk.Aws_URL_SUFFIX(), jsii.String("/"), rest.DeploymentStage().StageName(),
	})
}
