package embedded

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStreamRecordsEventItems(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	db := s.DynamoDB()
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("tbl"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	item := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "n": &types.AttributeValueMemberN{Value: "7"}}
	}
	put := func(pk string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item(pk), ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	}
	if err := put("EVT#before"); err != nil { // not recorded: nobody asked for the stream yet
		t.Fatal(err)
	}
	stream := s.Stream()
	if err := put("EVT#1"); err != nil {
		t.Fatal(err)
	}
	if err := put("EVT#1"); err == nil { // a failed condition writes nothing and records nothing
		t.Fatal("conditional put succeeded twice")
	}
	if err := put("INBOX#x"); err != nil {
		t.Fatal(err)
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("tbl"), Item: item("MSG#1")}},
		{Put: &types.Put{TableName: aws.String("tbl"), Item: item("EVT#2")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	recs, err := stream.Read(rctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for i, want := range []string{"EVT#1", "EVT#2"} {
		r := recs[i]
		if r.EventName != "INSERT" || r.Change.NewImage["pk"].String() != want || r.Change.NewImage["n"].Number() != "7" ||
			r.Change.Keys["pk"].String() != want || r.Change.StreamViewType != "NEW_IMAGE" || r.EventSourceArn == "" {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	if recs[0].Change.SequenceNumber >= recs[1].Change.SequenceNumber {
		t.Fatal("sequence numbers do not increase")
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := stream.Read(short, 10); err == nil {
		t.Fatal("read returned with nothing to read")
	}
}
