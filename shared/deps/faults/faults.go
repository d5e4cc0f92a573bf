// Package faults injects failures into the AWS SDK clients, through their middleware stacks,
// and counts their calls: what the fault-injection and round-trip tests of every handler are
// built on. It is test equipment; no function links it.
//
// An Injector is added to a client's APIOptions (DynamoDB, S3, SES, SQS, APIGateway wrap an
// existing client). Armed with (k, kind), it makes the k-th call from then on fail:
//
//   - Before: the call is not sent; it returns a connection-refused error, which tells the
//     caller for sure that nothing happened;
//   - After: the call is sent and takes effect; then its response is lost: it returns a
//     timeout, which leaves the caller unable to tell.
//
// The middleware sits at the end of the Initialize step, ahead of the SDK's own retries, so an
// injected failure is what the handler sees after the SDK gave up (a Before error is not
// retried by the SDK, and After has already run the SDK's attempts). Every call made while
// the injector is armed is recorded (service, operation, start and end), so the same
// middleware counts a handler's round trips (Calls, Depth).
package faults

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is how the chosen call fails.
type Kind int

const (
	None   Kind = iota
	Before      // not sent: connection refused
	After       // sent and applied, response lost: timeout
)

func (k Kind) String() string {
	switch k {
	case Before:
		return "before"
	case After:
		return "after"
	}
	return "none"
}

// Call is one AWS operation a client made while the injector was armed.
type Call struct {
	Service, Operation string
	Start, End         time.Time
	Fault              Kind // the failure injected into it, None for most
}

func (c Call) String() string { return c.Service + "." + c.Operation }

// Injector is the middleware. The zero value records nothing until armed.
type Injector struct {
	// Delay makes every recorded call last at least this long, so that calls a handler makes
	// concurrently overlap in time and Depth tells them from calls made one after another.
	Delay time.Duration

	mu     sync.Mutex
	armed  bool
	failAt int // 1-based index of the call to fail; 0: none
	kind   Kind
	calls  []Call
}

// Arm forgets the calls recorded so far and starts recording; the k-th call from now fails
// as kind says (k = 0 or kind None: no failure).
func (j *Injector) Arm(k int, kind Kind) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.armed, j.failAt, j.kind, j.calls = true, k, kind, nil
	if kind == None {
		j.failAt = 0
	}
}

// Disarm stops recording and injecting; Calls keeps what was recorded.
func (j *Injector) Disarm() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.armed = false
}

// Calls are the calls recorded since Arm, in the order they started.
func (j *Injector) Calls() []Call {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Call(nil), j.calls...)
}

// Injected reports whether the armed failure has happened (its call was made).
func (j *Injector) Injected() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failAt > 0 && len(j.calls) >= j.failAt
}

// AddTo adds the middleware to a client's stack: append it to the client's APIOptions.
func (j *Injector) AddTo(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("faults.Injector", j.handle), middleware.After)
}

func (j *Injector) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	j.mu.Lock()
	if !j.armed {
		j.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}
	i := len(j.calls)
	kind := None
	if i+1 == j.failAt {
		kind = j.kind
	}
	j.calls = append(j.calls, Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx), Start: time.Now(), Fault: kind})
	j.mu.Unlock()

	var (
		out middleware.InitializeOutput
		md  middleware.Metadata
		err error
	)
	if kind == Before {
		err = &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	} else {
		out, md, err = next.HandleInitialize(ctx, in)
	}
	if j.Delay > 0 {
		time.Sleep(j.Delay)
	}
	j.mu.Lock()
	j.calls[i].End = time.Now()
	j.mu.Unlock()
	if kind == After && err == nil {
		return middleware.InitializeOutput{}, md, &smithyhttp.RequestSendError{Err: ResponseLost}
	}
	return out, md, err
}

// ResponseLost is the error of an After failure: a network timeout after the request went
// out (net.Error with Timeout() true, as the SDK's HTTP client reports one).
var ResponseLost error = responseLost{}

type responseLost struct{}

func (responseLost) Error() string   { return "read tcp: i/o timeout (faults: the response was lost)" }
func (responseLost) Timeout() bool   { return true }
func (responseLost) Temporary() bool { return true }

// Depth is the length of the longest chain of calls each of which started after the one
// before it ended: how many round trips the operation waits for one after another. Calls
// made concurrently overlap (with Injector.Delay they surely do) and count once.
func Depth(calls []Call) int {
	best := make([]int, len(calls))
	depth := 0
	for i, c := range calls {
		best[i] = 1
		for j, p := range calls[:i] {
			if !p.End.After(c.Start) && best[j]+1 > best[i] {
				best[i] = best[j] + 1
			}
		}
		depth = max(depth, best[i])
	}
	return depth
}

// Count is the number of calls of each operation ("DynamoDB.Query": 2).
func Count(calls []Call) map[string]int {
	n := map[string]int{}
	for _, c := range calls {
		n[c.String()]++
	}
	return n
}

// Names lists the calls as "k:Service.Operation", for failure messages.
func Names(calls []Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = fmt.Sprintf("%d:%s", i+1, c)
	}
	return out
}

// DynamoDB is c with the injector in its stack.
func (j *Injector) DynamoDB(c *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(c.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, j.AddTo) })
}

// S3 is c with the injector in its stack.
func (j *Injector) S3(c *s3.Client) *s3.Client {
	return s3.New(c.Options(), func(o *s3.Options) { o.APIOptions = append(o.APIOptions, j.AddTo) })
}

// SES is c with the injector in its stack.
func (j *Injector) SES(c *sesv2.Client) *sesv2.Client {
	return sesv2.New(c.Options(), func(o *sesv2.Options) { o.APIOptions = append(o.APIOptions, j.AddTo) })
}

// SQS is c with the injector in its stack.
func (j *Injector) SQS(c *sqs.Client) *sqs.Client {
	return sqs.New(c.Options(), func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, j.AddTo) })
}

// APIGateway is c with the injector in its stack.
func (j *Injector) APIGateway(c *apigatewaymanagementapi.Client) *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.New(c.Options(), func(o *apigatewaymanagementapi.Options) { o.APIOptions = append(o.APIOptions, j.AddTo) })
}
