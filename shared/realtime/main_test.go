package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

var servers *embedded.Servers

func TestMain(m *testing.M) { os.Exit(embedded.Run(m, &servers)) }

var tableSeq atomic.Int64

const testOrg = "org_test"

func newStore(t *testing.T) *store.Store {
	t.Helper()
	name := fmt.Sprintf("rt%d", tableSeq.Add(1))
	st := store.New(servers.DynamoDB(), blob.New(servers.S3(), name, ""), name, []byte("k"))
	if err := st.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// putKey stores an API key and returns its secret.
func putKey(t *testing.T, st *store.Store, id, podID, inboxID string, perms map[string]bool) string {
	t.Helper()
	secret, prefix := auth.NewSecret()
	err := st.PutAPIKey(context.Background(), store.APIKey{
		APIKeyID: id, Name: id, Prefix: prefix, Hash: auth.Hash(secret), OrgID: testOrg, PodID: podID, InboxID: inboxID, Permissions: perms,
	})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// subscribe records a connection of key keyID with subscription sub.
func subscribe(t *testing.T, st *store.Store, connID, keyID string, sub events.Subscription) {
	t.Helper()
	ctx := context.Background()
	if err := st.PutConnection(ctx, store.Connection{ConnectionID: connID, APIKeyID: keyID, OrgID: testOrg}); err != nil {
		t.Fatal(err)
	}
	sub.OrgID = testOrg
	if err := st.SetSubscription(ctx, connID, sub); err != nil {
		t.Fatal(err)
	}
}

// eventRecord is the stream record of a new event item, as DynamoDB Streams sends it.
func eventRecord(seq int, eventType, podID, inboxID string) awsevents.DynamoDBEventRecord {
	id := "evt_" + strconv.Itoa(seq)
	payload, _ := json.Marshal(wire.Event{Type: "event", EventType: eventType, EventID: id,
		Message: &wire.Message{InboxID: inboxID, MessageID: "<m" + strconv.Itoa(seq) + "@x>", Labels: []string{}, To: []string{}}})
	s := awsevents.NewStringAttribute
	return awsevents.DynamoDBEventRecord{
		EventName: "INSERT", EventSource: "aws:dynamodb", EventID: strconv.Itoa(seq),
		Change: awsevents.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", seq), StreamViewType: "NEW_IMAGE",
			Keys: map[string]awsevents.DynamoDBAttributeValue{"pk": s("EVT#" + id), "sk": s("EVT")},
			NewImage: map[string]awsevents.DynamoDBAttributeValue{
				"pk": s("EVT#" + id), "sk": s("EVT"), "event_id": s(id), "event_type": s(eventType),
				"organization_id": s(testOrg), "pod_id": s(podID), "inbox_id": s(inboxID),
				"created_at": s(time.Now().UTC().Format(time.RFC3339Nano)), "event": s(string(payload)),
				"ttl": awsevents.NewNumberAttribute(strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)),
			},
		},
	}
}

// poster is a fake management API: it records posts and answers GoneException for gone ids.
type poster struct {
	mu      sync.Mutex
	posts   map[string][]string // connection → event ids
	deleted []string
	gone    map[string]bool
}

func newPoster() *poster { return &poster{posts: map[string][]string{}, gone: map[string]bool{}} }

func (p *poster) PostToConnection(_ context.Context, in *apigatewaymanagementapi.PostToConnectionInput, _ ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := aws.ToString(in.ConnectionId)
	if p.gone[id] {
		return nil, &apigwtypes.GoneException{Message: aws.String("gone")}
	}
	var ev wire.Event
	_ = json.Unmarshal(in.Data, &ev)
	p.posts[id] = append(p.posts[id], ev.EventID)
	return &apigatewaymanagementapi.PostToConnectionOutput{}, nil
}

func (p *poster) DeleteConnection(_ context.Context, in *apigatewaymanagementapi.DeleteConnectionInput, _ ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.DeleteConnectionOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = append(p.deleted, aws.ToString(in.ConnectionId))
	return &apigatewaymanagementapi.DeleteConnectionOutput{}, nil
}

func (p *poster) count(conn string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts[conn])
}

// queue is a fake SQS queue.
type queue struct {
	mu         sync.Mutex
	fail       bool
	sent       []string // message bodies
	visibility []int32
	dead       []string
}

func (q *queue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return nil, fmt.Errorf("queue unavailable")
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		q.sent = append(q.sent, aws.ToString(e.MessageBody))
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m")})
	}
	return out, nil
}

func (q *queue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.visibility = append(q.visibility, in.VisibilityTimeout)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (q *queue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead = append(q.dead, aws.ToString(in.MessageBody))
	return &sqs.SendMessageOutput{}, nil
}
