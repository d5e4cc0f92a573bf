package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/store"
)

// SetupNotificationKey ends the name of the test object SES writes when an S3 action is
// created; it is not mail.
const SetupNotificationKey = "AMAZON_SES_SETUP_NOTIFICATION"

// ImportPrefix is where .eml files dropped into the bucket are picked up.
const ImportPrefix = "import/"

// Handler is the inbound function.
type Handler struct {
	Store  *store.Store
	Blobs  *blob.Store
	Config config.Config
	Now    func() time.Time // time.Now when nil
	Log    *slog.Logger     // slog.Default() when nil
}

// sesNotification is SES's receipt notification as published to SNS.
type sesNotification struct {
	NotificationType string                    `json:"notificationType"`
	Mail             events.SimpleEmailMessage `json:"mail"`
	Receipt          events.SimpleEmailReceipt `json:"receipt"`
}

// HandleEvent is the Lambda entry point for both triggers: an SNS event carrying SES receipt
// notifications, or an S3 event for objects created under import/. Records of other kinds
// are logged and skipped. It returns an error when any record could not be processed; the
// platform then retries the whole event, which is safe because delivery is idempotent.
func (h *Handler) HandleEvent(ctx context.Context, event json.RawMessage) error {
	var env struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(event, &env); err != nil {
		return fmt.Errorf("inbound: event is not JSON with Records: %w", err)
	}
	var errs []error
	for i, raw := range env.Records {
		// encoding/json matches keys case-insensitively: this reads SNS's "EventSource" and
		// S3's "eventSource" alike.
		var probe struct {
			EventSource string `json:"eventSource"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			errs = append(errs, fmt.Errorf("inbound: record %d: %w", i, err))
			continue
		}
		var err error
		switch probe.EventSource {
		case "aws:sns":
			err = h.handleSNS(ctx, raw)
		case "aws:s3":
			err = h.handleS3(ctx, raw)
		default:
			h.log().Warn("inbound: record of an unexpected source skipped", "source", probe.EventSource)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("inbound: record %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) handleSNS(ctx context.Context, raw json.RawMessage) error {
	var r events.SNSEventRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("sns record: %w", err)
	}
	var n sesNotification
	if err := json.Unmarshal([]byte(r.SNS.Message), &n); err != nil {
		return fmt.Errorf("sns message %s is not an SES notification: %w", r.SNS.MessageID, err)
	}
	if n.NotificationType != "Received" {
		h.log().Info("inbound: SES notification skipped", "type", n.NotificationType, "sns_message_id", r.SNS.MessageID)
		return nil
	}
	a := n.Receipt.Action
	if a.Type != "S3" || a.ObjectKey == "" {
		return fmt.Errorf("SES notification %s names no S3 object (action %q); give the receipt rule an S3 action with a topic", n.Mail.MessageID, a.Type)
	}
	if a.BucketName != "" && h.Blobs != nil && a.BucketName != h.Blobs.Bucket() {
		return fmt.Errorf("SES wrote %s to bucket %s, but this function reads %s", a.ObjectKey, a.BucketName, h.Blobs.Bucket())
	}
	rc := n.Receipt
	return h.Receive(ctx, Receipt{
		Key:        a.ObjectKey,
		Recipients: rc.Recipients,
		Verdicts: store.Verdicts{
			Spam: rc.SpamVerdict.Status, Virus: rc.VirusVerdict.Status,
			SPF: rc.SPFVerdict.Status, DKIM: rc.DKIMVerdict.Status, DMARC: rc.DMARCVerdict.Status,
		},
		ReceivedAt: firstTime(rc.Timestamp, n.Mail.Timestamp, r.SNS.Timestamp),
	})
}

func (h *Handler) handleS3(ctx context.Context, raw json.RawMessage) error {
	var r events.S3EventRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("s3 record: %w", err)
	}
	k := r.S3.Object.URLDecodedKey
	switch {
	case !strings.HasPrefix(r.EventName, "ObjectCreated:"):
		h.log().Info("inbound: S3 event skipped", "event", r.EventName, "key", k)
		return nil
	case !strings.HasPrefix(k, ImportPrefix) && !strings.HasSuffix(k, SetupNotificationKey):
		h.log().Warn("inbound: S3 object outside import/ skipped", "key", k)
		return nil
	case h.Blobs != nil && r.S3.Bucket.Name != "" && r.S3.Bucket.Name != h.Blobs.Bucket():
		return fmt.Errorf("object %s is in bucket %s, but this function reads %s", k, r.S3.Bucket.Name, h.Blobs.Bucket())
	}
	return h.Receive(ctx, Receipt{Key: k, ReceivedAt: r.EventTime})
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
