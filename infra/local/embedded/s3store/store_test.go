package s3store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
)

// serve puts gofakes3 in front of st and returns an SDK client for it.
func serve(t testing.TB, st *Store) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(st, gofakes3.WithAutoBucket(true), gofakes3.WithoutVersioning()).Server())
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
}

func open(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func put(t testing.TB, st *Store, bucket, key, body string) {
	t.Helper()
	if _, err := st.PutObject(bucket, key, map[string]string{"Content-Type": "text/plain"}, strings.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
}

func get(t testing.TB, st *Store, bucket, key string) (string, bool) {
	t.Helper()
	obj, err := st.GetObject(bucket, key, nil)
	if err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
			return "", false
		}
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func TestSDKRoundTrip(t *testing.T) {
	st := open(t, t.TempDir(), Options{})
	c := serve(t, st)
	ctx := context.Background()
	bucket := aws.String("pigeon")
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16) // more than half a memtable: pebble's large-batch path
	for key, body := range map[string][]byte{"raw/a": []byte("hello, raw mail"), "att/b/c.pdf": big, "empty": {}} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/x-test")}); err != nil {
			t.Fatal(key, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatal(key, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, body) || aws.ToString(out.ContentType) != "application/x-test" {
			t.Fatalf("%s: %d bytes, %s", key, len(got), aws.ToString(out.ContentType))
		}
	}

	// Ranges, small (read whole) and large (from the file).
	for key, body := range map[string][]byte{"raw/a": []byte("hello, raw mail"), "att/b/c.pdf": big} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), Range: aws.String("bytes=2-9")})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, body[2:10]) {
			t.Fatalf("%s range: %q", key, got)
		}
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("att/b/c.pdf")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(big)) {
		t.Fatalf("head: %v, %v", head, err)
	}

	// Missing keys and buckets.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("nope")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("missing key: %v", err)
	}

	// If-None-Match: * refuses an existing key.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("raw/a"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
	if err == nil {
		t.Fatal("conditional put over an existing key succeeded")
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("raw/new"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Fatal(err)
	}

	// Listing, with a delimiter and pages.
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys, prefixes []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	for _, p := range list.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if fmt.Sprint(keys) != "[empty]" || fmt.Sprint(prefixes) != "[att/ raw/]" {
		t.Fatalf("list: %v %v", keys, prefixes)
	}
	var all []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			all = append(all, aws.ToString(o.Key))
		}
	}
	if fmt.Sprint(all) != "[att/b/c.pdf empty raw/a raw/new]" {
		t.Fatalf("paged list: %v", all)
	}

	// Presigned GET with the response overrides the API uses.
	req, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: bucket, Key: aws.String("raw/a"), ResponseContentType: aws.String("message/rfc822"),
		ResponseContentDisposition: aws.String(`attachment; filename="m.eml"`),
	}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "hello, raw mail" || resp.Header.Get("Content-Type") != "message/rfc822" || !strings.Contains(resp.Header.Get("Content-Disposition"), "m.eml") {
		t.Fatalf("presigned: %d %q %v", resp.StatusCode, got, resp.Header)
	}

	// Overwrite replaces the metadata too; delete, then delete again.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("raw/a"), Body: strings.NewReader("v2")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("raw/a")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "v2" || aws.ToString(out.ContentType) == "application/x-test" {
		t.Fatalf("overwrite: %q %s", got, aws.ToString(out.ContentType))
	}
	for range 2 {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("raw/a")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := get(t, st, "pigeon", "raw/a"); ok {
		t.Fatal("deleted object still there")
	}

	// Buckets: listed, not deleted while full, force-deleted.
	buckets, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "pigeon" {
		t.Fatalf("buckets: %v, %v", buckets, err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket}); err == nil {
		t.Fatal("deleted a bucket with objects in it")
	}
	if err := st.ForceDeleteBucket("pigeon"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.BucketExists("pigeon"); ok {
		t.Fatal("bucket still there")
	}
}

// What a store held is there after it is closed and opened again, buckets included.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir, Options{})
	for _, b := range []string{"pigeon", "other"} {
		if err := st.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		put(t, st, "pigeon", fmt.Sprintf("raw/%d", i), fmt.Sprintf("mail %d", i))
	}
	put(t, st, "pigeon", "raw/7", "mail 7, again")
	if _, err := st.DeleteObject("pigeon", "raw/9"); err != nil {
		t.Fatal(err)
	}
	if err := st.ForceDeleteBucket("other"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, dir, Options{})
	for i := range 50 {
		want := fmt.Sprintf("mail %d", i)
		if i == 7 {
			want += ", again"
		}
		got, ok := get(t, st, "pigeon", fmt.Sprintf("raw/%d", i))
		if i == 9 {
			if ok {
				t.Fatal("deleted raw/9 came back")
			}
			continue
		}
		if got != want {
			t.Fatalf("raw/%d = %q, %v", i, got, ok)
		}
	}
	if buckets, _ := st.ListBuckets(); len(buckets) != 1 || buckets[0].Name != "pigeon" {
		t.Fatalf("buckets %v", buckets)
	}
}

// Writers to the same and to different keys, readers alongside.
func TestConcurrentWriters(t *testing.T) {
	st := open(t, t.TempDir(), Options{})
	if err := st.CreateBucket("pigeon"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				key := fmt.Sprintf("k%d", i%10) // shared
				body := fmt.Sprintf("w%d-%d", w, i)
				if _, err := st.PutObject("pigeon", key, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
					t.Error(err)
					return
				}
				mine := fmt.Sprintf("own/%d/%d", w, i)
				put(t, st, "pigeon", mine, body)
				if got, _ := get(t, st, "pigeon", mine); got != body {
					t.Errorf("%s = %q", mine, got)
				}
				if got, ok := get(t, st, "pigeon", key); !ok || !strings.HasPrefix(got, "w") {
					t.Errorf("%s = %q", key, got)
				}
			}
		})
	}
	wg.Wait()
}

// Memory does not grow with the objects stored: 50,000 mails of 2 KB (100 MB) leave the
// heap and the resident set where 5,000 left them, give or take pebble's bounded memtables
// and cache.
func TestMemoryDoesNotGrowWithObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 50,000 objects")
	}
	st := open(t, t.TempDir(), Options{NoSync: true})
	if err := st.CreateBucket("pigeon"); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("m", 2048)
	measure := func() (heap, rss uint64) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if b, err := os.ReadFile("/proc/self/statm"); err == nil {
			var size, res uint64
			fmt.Sscan(string(b), &size, &res)
			rss = res * uint64(os.Getpagesize())
		}
		return m.HeapInuse, rss
	}
	n := 0
	fill := func(to int) {
		for ; n < to; n++ {
			key := fmt.Sprintf("raw/%d", n)
			put(t, st, "pigeon", key, body)
			if n%10 == 0 { // and read back, as inbound does
				get(t, st, "pigeon", key)
			}
		}
	}
	fill(5000)
	heap0, rss0 := measure()
	fill(50000)
	heap1, rss1 := measure()
	t.Logf("heap in use %d → %d KiB, RSS %d → %d KiB", heap0>>10, heap1>>10, rss0>>10, rss1>>10)
	if heap1 > heap0+16<<20 {
		t.Fatalf("heap in use grew from %d to %d KiB over 45,000 objects", heap0>>10, heap1>>10)
	}
	if rss1 > rss0+48<<20 {
		t.Fatalf("RSS grew from %d to %d KiB over 45,000 objects", rss0>>10, rss1>>10)
	}
}

// The child of TestKilledMidWrite: puts, overwrites and deletes, printing each acknowledged
// operation, until it is killed.
func TestKilledMidWriteChild(t *testing.T) {
	dir := os.Getenv("S3STORE_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestKilledMidWrite")
	}
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.BucketExists("pigeon"); !ok {
		if err := st.CreateBucket("pigeon"); err != nil {
			t.Fatal(err)
		}
	}
	start, _ := strconv.Atoi(os.Getenv("S3STORE_CRASH_FROM"))
	out := bufio.NewWriter(os.Stdout)
	for n := start; ; n++ {
		key, body, del := crashOp(n)
		if del {
			_, err = st.DeleteObject("pigeon", key)
		} else {
			_, err = st.PutObject("pigeon", key, nil, strings.NewReader(body), int64(len(body)), nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "ack %d\n", n)
		out.Flush()
	}
}

// crashOp is operation n of the crash workload: mostly new keys, some overwrites, some
// deletes, with bodies of a few bytes to a few hundred kilobytes.
func crashOp(n int) (key, body string, del bool) {
	switch {
	case n%7 == 6:
		return fmt.Sprintf("k%d", n-3), "", true
	case n%5 == 4:
		return fmt.Sprintf("k%d", n-2), fmt.Sprintf("overwritten by %d|", n) + strings.Repeat("o", n%3000), false
	}
	return fmt.Sprintf("k%d", n), fmt.Sprintf("op %d|", n) + strings.Repeat("b", (n*7919)%(n%13*20000+100)), false
}

// The store is SIGKILLed at random moments and reopened on the same directory: every
// acknowledged operation is there, and the one in flight either happened or did not.
func TestKilledMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills child processes")
	}
	dir := t.TempDir()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	next := 0
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWriteChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "S3STORE_CRASH_DIR="+dir, "S3STORE_CRASH_FROM="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := make(chan int, 1<<16)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					v, _ := strconv.Atoi(n)
					acked <- v
				}
			}
			close(acked)
		}()
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		last := next - 1
		for n := range acked {
			last = n
		}
		_ = cmd.Wait()
		if last < next {
			t.Fatalf("round %d: nothing acknowledged\n%s", round, stderr.String())
		}
		// Operations next..last were acknowledged; last+1 may or may not have happened.
		st, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		inFlight, _, _ := crashOp(last + 1)
		want := map[string]string{}
		for n := 0; n <= last; n++ {
			key, body, del := crashOp(n)
			if del {
				delete(want, key)
			} else {
				want[key] = body
			}
		}
		for n := 0; n <= last+1; n++ {
			key, _, _ := crashOp(n)
			got, ok := get(t, st, "pigeon", key)
			if key == inFlight {
				continue
			}
			if w, exists := want[key]; ok != exists || got != w {
				t.Fatalf("round %d (acknowledged to %d): %s = %d bytes (%v), want %d (%v)", round, last, key, len(got), ok, len(w), exists)
			}
		}
		// Settle the in-flight operation, so the next round's expectations hold.
		key, body, del := crashOp(last + 1)
		if del {
			_, err = st.DeleteObject("pigeon", key)
		} else {
			_, err = st.PutObject("pigeon", key, nil, strings.NewReader(body), int64(len(body)), nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		t.Logf("round %d: %d operations acknowledged", round, last-next+1)
		next = last + 2
	}
}

func benchStore(b *testing.B, noSync bool) *Store {
	st := open(b, b.TempDir(), Options{NoSync: noSync})
	if err := st.CreateBucket("pigeon"); err != nil {
		b.Fatal(err)
	}
	return st
}

// PutObject of a 2 KB mail, as the SMTP stand-in writes raw/<id>: the backend alone, one
// writer and 16 (pebble's group commit shares their fdatasyncs), and through gofakes3
// and the SDK client as the local stack calls it.
func BenchmarkPutObject(b *testing.B) {
	body := bytes.Repeat([]byte("m"), 2048)
	run := func(b *testing.B, st *Store, parallel int) {
		var n sync.Mutex
		i := 0
		b.SetBytes(int64(len(body)))
		b.ResetTimer()
		if parallel == 1 {
			for i := 0; b.Loop(); i++ {
				if _, err := st.PutObject("pigeon", fmt.Sprintf("raw/%d", i), nil, bytes.NewReader(body), int64(len(body)), nil); err != nil {
					b.Fatal(err)
				}
			}
			return
		}
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n.Lock()
				i++
				k := i
				n.Unlock()
				if _, err := st.PutObject("pigeon", fmt.Sprintf("raw/%d", k), nil, bytes.NewReader(body), int64(len(body)), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("C=1", func(b *testing.B) { run(b, benchStore(b, false), 1) })
	b.Run("C=16", func(b *testing.B) { run(b, benchStore(b, false), 16) })
	b.Run("C=1/nosync", func(b *testing.B) { run(b, benchStore(b, true), 1) })
	b.Run("C=1/sdk", func(b *testing.B) {
		st := benchStore(b, false)
		c := serve(b, st)
		ctx := context.Background()
		b.SetBytes(int64(len(body)))
		for i := 0; b.Loop(); i++ {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pigeon"), Key: aws.String(fmt.Sprintf("raw/%d", i)), Body: bytes.NewReader(body)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// GetObject of a stored 2 KB mail.
func BenchmarkGetObject(b *testing.B) {
	st := benchStore(b, true)
	body := bytes.Repeat([]byte("m"), 2048)
	for i := range 1000 {
		if _, err := st.PutObject("pigeon", fmt.Sprintf("raw/%d", i), nil, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(body)))
	for i := 0; b.Loop(); i++ {
		obj, err := st.GetObject("pigeon", fmt.Sprintf("raw/%d", i%1000), nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, obj.Contents)
		obj.Contents.Close()
	}
}
