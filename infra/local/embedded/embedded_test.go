package embedded

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The servers answer the real SDK clients: a table round trip and a presigned S3 GET.
func TestServersAnswerSDKClients(t *testing.T) {
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	db := srv.DynamoDB()
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("tbl"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: item})
	if err != nil || got.Item == nil {
		t.Fatalf("GetItem = %v, %v", got, err)
	}
	// The listener answers too, for clients outside the process.
	overTCP := dynamodb.NewFromConfig(srv.AWSConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.DynamoDBURL) })
	if got, err := overTCP.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: item}); err != nil || got.Item == nil {
		t.Fatalf("GetItem over TCP = %v, %v", got, err)
	}

	c := srv.S3()
	body := []byte("raw mail")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("raw/x"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	req, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("raw/x")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(data, body) {
		t.Fatalf("presigned GET = %d %q", resp.StatusCode, data)
	}
}

// Open on the same directory again finds what the last run stored (S3 always; DynamoDB once
// the durable engine serves it), and the data is not in the temporary directory Start uses.
func TestOpenKeepsDataAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("raw mail that must survive")
	if _, err := srv.S3().PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("pigeon"), Key: aws.String("raw/kept"), Body: bytes.NewReader(body), ContentType: aws.String("message/rfc822"),
	}); err != nil {
		t.Fatal(err)
	}
	durable := srv.DB != nil
	if durable {
		db := srv.DynamoDB()
		if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String("tbl"), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "kept"}}}); err != nil {
			t.Fatal(err)
		}
	}
	srv.Close()
	if _, err := os.Stat(filepath.Join(dir, "s3")); err != nil {
		t.Fatalf("no s3/ in the data directory: %v", err)
	}

	srv, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out, err := srv.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pigeon"), Key: aws.String("raw/kept")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) || aws.ToString(out.ContentType) != "message/rfc822" {
		t.Fatalf("after restart: %q (%s)", got, aws.ToString(out.ContentType))
	}
	if durable {
		item, err := srv.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "kept"}}})
		if err != nil || item.Item == nil {
			t.Fatalf("DynamoDB item after restart: %v, %v", item, err)
		}
	}
}

// Start's temporary directory goes at Close.
func TestStartRemovesItsDirectory(t *testing.T) {
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	dir := srv.Dir
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Close: %v", dir, err)
	}
}
