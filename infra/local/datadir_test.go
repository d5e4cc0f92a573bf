package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
)

// startDir starts a stack on dataDir (and key, when not empty) with every listener on a free
// port.
func startDir(t *testing.T, dataDir, key string) (*Stack, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", Domain: "pigeon.local",
		DataDir: dataDir, APIKey: key, Log: slog.New(slog.DiscardHandler),
	})
	if err == nil {
		t.Cleanup(st.Close)
	}
	return st, err
}

func call(t *testing.T, st *Stack, method, path, key string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, st.RESTURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The organisation key is generated once, kept in <dir>/api-key (0600), and the same after a
// restart; the restarted stack still has the first one's inbox and raw mail. PIGEON_API_KEY
// overrides the kept key without replacing it.
func TestDataDirKeepsKeyAndData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // created by Start
	st, err := startDir(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.KeySource != KeyGenerated || st.Ephemeral || st.DataDir != dir {
		t.Fatalf("first start: key %s, ephemeral %v, dir %s", st.KeySource, st.Ephemeral, st.DataDir)
	}
	key := st.APIKey
	fi, err := os.Stat(filepath.Join(dir, apiKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("api-key: %v, %v", fi, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, apiKeyFile)); strings.TrimSpace(string(b)) != key {
		t.Fatalf("api-key holds %q", b)
	}
	for _, sub := range []string{"dynamodb", "s3", lockFile} {
		if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
			t.Errorf("%s: %v", sub, err)
		}
	}
	code, body := call(t, st, "POST", "/v0/inboxes", key)
	if code != 200 {
		t.Fatalf("create inbox: %d %s", code, body)
	}
	var inbox struct {
		InboxID string `json:"inbox_id"`
	}
	if err := json.Unmarshal(body, &inbox); err != nil || inbox.InboxID == "" {
		t.Fatalf("inbox %s: %v", body, err)
	}
	ctx := context.Background()
	if err := st.Blobs.Put(ctx, "raw/kept", "message/rfc822", []byte("raw mail")); err != nil {
		t.Fatal(err)
	}
	boot, err := st.Store.GetAPIKey(ctx, auth.BootstrapKeyID)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = startDir(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.KeySource != KeyKept || st.APIKey != key {
		t.Fatalf("restart: key %s %s, want the kept %s", st.KeySource, st.APIKey, key)
	}
	// Bootstrap ran again with the same key: it is still the one key that works.
	if code, body := call(t, st, "GET", "/v0/inboxes/"+inbox.InboxID, key); code != 200 {
		t.Fatalf("the first run's inbox after a restart: %d %s", code, body)
	}
	if got, err := st.Blobs.Get(ctx, "raw/kept"); err != nil || string(got) != "raw mail" {
		t.Fatalf("raw mail after a restart: %q, %v", got, err)
	}
	// auth.Bootstrap with the kept key found its own record and left it alone.
	k, err := st.Store.GetAPIKey(ctx, auth.BootstrapKeyID)
	if err != nil || k.Hash != auth.Hash(key) || !k.CreatedAt.Equal(boot.CreatedAt) || !k.UpdatedAt.Equal(boot.UpdatedAt) {
		t.Fatalf("bootstrap key after a restart: %+v, %v; before: %+v", k, err, boot)
	}
	st.Close()

	override, _ := auth.NewSecret()
	st, err = startDir(t, dir, override)
	if err != nil {
		t.Fatal(err)
	}
	if st.KeySource != KeyFromEnv || st.APIKey != override {
		t.Fatalf("with PIGEON_API_KEY: %s %s", st.KeySource, st.APIKey)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, apiKeyFile)); strings.TrimSpace(string(b)) != key {
		t.Fatalf("PIGEON_API_KEY replaced the kept key: %q", b)
	}
	if code, _ := call(t, st, "GET", "/v0/inboxes", override); code != 200 {
		t.Fatalf("the PIGEON_API_KEY key: %d", code)
	}
}

// A second stack on a directory in use fails at once, naming the directory and the holder's
// PID; once the first stops, the directory is free again.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	first, err := startDir(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, lockFile)); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("LOCK holds %q, want this PID", b)
	}
	started := time.Now()
	_, err = startDir(t, dir, "")
	if err == nil {
		t.Fatal("a second stack started on the same directory")
	}
	if !errors.Is(err, errDataDirInUse) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Fatalf("error %q does not name the directory and the PID", err)
	}
	if time.Since(started) > 5*time.Second {
		t.Errorf("the refusal took %v", time.Since(started))
	}
	first.Close()
	if _, err := startDir(t, dir, ""); err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
}

// Settings without a DataDir (as the tests write them) or with Ephemeral run on a temporary
// directory that Close removes; both at once is refused.
func TestEphemeralDataDir(t *testing.T) {
	st, err := startDir(t, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ephemeral || st.KeySource != KeyGenerated {
		t.Fatalf("ephemeral %v, key %s", st.Ephemeral, st.KeySource)
	}
	dir := st.DataDir
	if _, err := os.Stat(filepath.Join(dir, "s3")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Close: %v", dir, err)
	}

	ctx := context.Background()
	_, err = Start(ctx, Settings{HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), Ephemeral: true, Log: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "PIGEON_EPHEMERAL") {
		t.Fatalf("DataDir and Ephemeral together: %v", err)
	}
}

// SettingsFromEnv: build/data unless PIGEON_DATA_DIR or PIGEON_EPHEMERAL says otherwise; the
// listen addresses of the embedded servers.
func TestSettingsFromEnvDataDir(t *testing.T) {
	for _, tc := range []struct {
		env       map[string]string
		dir       string
		ephemeral bool
	}{
		{nil, DefaultDataDir, false},
		{map[string]string{"PIGEON_DATA_DIR": "/tmp/pd"}, "/tmp/pd", false},
		{map[string]string{"PIGEON_EPHEMERAL": "1"}, "", true},
		{map[string]string{"PIGEON_EPHEMERAL": "0"}, DefaultDataDir, false},
	} {
		for _, name := range []string{"PIGEON_DATA_DIR", "PIGEON_EPHEMERAL", "PIGEON_S3_ADDR", "PIGEON_DYNAMODB_ADDR"} {
			t.Setenv(name, tc.env[name])
		}
		set := SettingsFromEnv()
		if set.DataDir != tc.dir || set.Ephemeral != tc.ephemeral {
			t.Errorf("%v: dir %q, ephemeral %v", tc.env, set.DataDir, set.Ephemeral)
		}
		if set.S3Addr != DefaultS3Addr || set.DynamoDBAddr != "" {
			t.Errorf("%v: S3 %q, DynamoDB %q", tc.env, set.S3Addr, set.DynamoDBAddr)
		}
	}
	t.Setenv("PIGEON_S3_ADDR", "127.0.0.1:9000")
	t.Setenv("PIGEON_DYNAMODB_ADDR", "127.0.0.1:9001")
	if set := SettingsFromEnv(); set.S3Addr != "127.0.0.1:9000" || set.DynamoDBAddr != "127.0.0.1:9001" {
		t.Errorf("addresses %q %q", set.S3Addr, set.DynamoDBAddr)
	}
}
