// Package blob keeps Pigeon's bytes in S3: raw mail, large message bodies and attachments.
// It is a thin layer over the S3 client that gives missing objects one error, ErrNotFound,
// and hands out presigned GET URLs for downloads.
package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// ErrNotFound is returned when the object does not exist.
var ErrNotFound = errors.New("blob: not found")

// Store reads and writes objects in one bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// New returns a Store for bucket. presignEndpoint, when not empty, replaces the client's
// endpoint in presigned URLs (the embedded S3 and LocalStack are reached under another host
// by browsers than by the functions); "" presigns against the client's own endpoint.
func New(client *s3.Client, bucket string, presignEndpoint string) *Store {
	var opts []func(*s3.PresignOptions)
	if presignEndpoint != "" {
		opts = append(opts, func(o *s3.PresignOptions) {
			o.ClientOptions = append(o.ClientOptions, func(co *s3.Options) {
				co.BaseEndpoint = aws.String(presignEndpoint)
			})
		})
	}
	return &Store{client: client, presign: s3.NewPresignClient(client, opts...), bucket: bucket}
}

// Bucket is the bucket the store writes to.
func (b *Store) Bucket() string { return b.bucket }

// Put writes data under key with the given Content-Type ("" = application/octet-stream).
// Writing the same key again replaces the object, so callers that derive keys from natural
// ids can retry safely.
func (b *Store) Put(ctx context.Context, key, contentType string, data []byte) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Get reads the whole object under key.
func (b *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("blob: get %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("blob: get %s: %w", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("blob: read %s: %w", key, err)
	}
	return data, nil
}

// GetRange reads at most n bytes of the object under key, starting at offset.
func (b *Store) GetRange(ctx context.Context, key string, offset, n int64) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+n-1)),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("blob: get %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("blob: get %s: %w", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, n))
	if err != nil {
		return nil, fmt.Errorf("blob: read %s: %w", key, err)
	}
	return data, nil
}

// Size returns the object's length without reading it.
func (b *Store) Size(ctx context.Context, key string) (int64, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return 0, fmt.Errorf("blob: head %s: %w", key, ErrNotFound)
		}
		return 0, fmt.Errorf("blob: head %s: %w", key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// PresignGet returns a URL that downloads key for ttl. contentType and filename, when not
// empty, override the response's Content-Type and set an attachment Content-Disposition, so
// a browser saves the file under its own name whatever the object was stored with.
func (b *Store) PresignGet(ctx context.Context, key string, ttl time.Duration, contentType, filename string) (string, time.Time, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)}
	if contentType != "" {
		in.ResponseContentType = aws.String(contentType)
	}
	if filename != "" {
		in.ResponseContentDisposition = aws.String(contentDisposition(filename))
	}
	expires := time.Now().Add(ttl)
	req, err := b.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("blob: presign %s: %w", key, err)
	}
	return req.URL, expires, nil
}

// contentDisposition builds an attachment disposition with an ASCII fallback name and the
// RFC 6266 / RFC 5987 filename* form for names outside ASCII.
func contentDisposition(filename string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "attachment; filename*=UTF-8''" + url.PathEscape(filename)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")
}
