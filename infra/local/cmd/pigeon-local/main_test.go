package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The command starts, prints where to reach it, answers on the printed URL with the printed
// key, and exits 0 on SIGTERM.
func TestStartAndStopOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := filepath.Join(t.TempDir(), "pigeon-local")
	// go test puts its own GOROOT/bin first on PATH, so this is the same toolchain.
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(), "PIGEON_DATA_DIR="+t.TempDir(),
		"PIGEON_HTTP_ADDR=127.0.0.1:0", "PIGEON_SMTP_ADDR=127.0.0.1:0", "PIGEON_SES_ADDR=127.0.0.1:0", "PIGEON_S3_ADDR=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})

	restURL, apiKey := "", ""
	banner := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := regexp.MustCompile(`REST API\s+(http://\S+)`).FindStringSubmatch(line); m != nil {
				restURL = m[1]
			}
			if m := regexp.MustCompile(`API key\s+(\S+)`).FindStringSubmatch(line); m != nil {
				apiKey = m[1]
			}
			if strings.HasPrefix(line, "Try:") {
				close(banner)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	select {
	case <-banner:
	case err := <-done:
		t.Fatalf("exited before printing its addresses: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no banner within a minute")
	}

	req, _ := http.NewRequest("GET", restURL+"/v0/inboxes", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /v0/inboxes with the printed key: %d", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15 s after SIGTERM")
	}
	if _, err := http.Get(restURL + "/v0/inboxes"); err == nil {
		t.Error("the REST port still answers after exit")
	}
}

// cleanEnv is the environment without the variables that would point the stack elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PIGEON_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
