package local

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
)

// With AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3 set (LocalStack, say) the stack uses
// those endpoints and starts no embedded servers. Servers started here stand in for LocalStack.
func TestExternalEndpoints(t *testing.T) {
	external, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer external.Close()
	// The SDK's default chain reads credentials from the process environment, as it would
	// for LocalStack's test/test.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	env := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": external.DynamoDBURL,
		"AWS_ENDPOINT_URL_S3":       external.S3URL,
		"PIGEON_TABLE":              "pigeon-ext",
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0",
		Lookup: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		Log:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.DynamoDBEndpoint != external.DynamoDBURL || st.S3Endpoint != external.S3URL || st.storage.embedded != nil {
		t.Errorf("endpoints %s %s, embedded %v", st.DynamoDBEndpoint, st.S3Endpoint, st.storage.embedded != nil)
	}
	if st.Config.Table != "pigeon-ext" || st.Config.PublicS3Endpoint != external.S3URL {
		t.Errorf("config %+v", st.Config)
	}
	if _, err := external.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("pigeon-ext")}); err != nil {
		t.Errorf("table not created on the external endpoint: %v", err)
	}
	req, _ := http.NewRequest("POST", st.RESTURL+"/v0/inboxes", nil)
	req.Header.Set("Authorization", "Bearer "+st.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("create inbox: %d", resp.StatusCode)
	}
}
