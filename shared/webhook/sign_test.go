package webhook

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The test vector of the Standard Webhooks specification (and of Svix's libraries).
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTime   = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignStandardWebhooksVector(t *testing.T) {
	got, err := Sign(vectorSecret, vectorID, time.Unix(vectorTime, 0), []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	// The prefix is optional, as in the reference libraries.
	if got, _ := Sign(strings.TrimPrefix(vectorSecret, SecretPrefix), vectorID, time.Unix(vectorTime, 0), []byte(vectorBody)); got != vectorSig {
		t.Errorf("without prefix: %s", got)
	}
}

func TestSignRejectsMalformedSecret(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := Sign(s, "msg", time.Now(), nil); err == nil {
			t.Errorf("Sign(%q) succeeded", s)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(a, SecretPrefix) {
		t.Fatalf("%q lacks whsec_", a)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, SecretPrefix))
	if err != nil || len(k) != 24 {
		t.Fatalf("key: %d bytes, %v", len(k), err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(vectorTime, 0)
	h := http.Header{}
	h.Set("svix-id", vectorID)
	h.Set("svix-timestamp", "1614265330")
	h.Set("svix-signature", "v1,bm90IGl0 "+vectorSig) // several signatures, space-separated
	if err := Verify(vectorSecret, h, []byte(vectorBody), now.Add(4*time.Minute)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Verify(vectorSecret, h, []byte(vectorBody), now.Add(6*time.Minute)); err == nil {
		t.Error("stale timestamp accepted")
	}
	if err := Verify(vectorSecret, h, []byte(`{"test": 2432232315}`), now); err == nil {
		t.Error("altered body accepted")
	}
	if err := Verify(NewSecret(), h, []byte(vectorBody), now); err == nil {
		t.Error("other secret accepted")
	}
}

func TestMessageID(t *testing.T) {
	a := MessageID("evt_1", "ep_1")
	if a != MessageID("evt_1", "ep_1") {
		t.Fatal("not stable")
	}
	if a == MessageID("evt_1", "ep_2") || a == MessageID("evt_2", "ep_1") {
		t.Fatal("not distinct per event and webhook")
	}
	if !strings.HasPrefix(a, "msg_") || len(a) != 4+32 || strings.ToLower(a) != a {
		t.Fatalf("format: %q", a)
	}
}

func TestBackoff(t *testing.T) {
	var total time.Duration
	attempts := 1
	for {
		wait, ok := Backoff(attempts)
		if !ok {
			break
		}
		if wait > 12*time.Hour {
			t.Errorf("wait %s exceeds SQS's 12 h visibility limit", wait)
		}
		total += wait
		attempts++
	}
	if attempts != MaxAttempts {
		t.Errorf("%d attempts, MaxAttempts = %d", attempts, MaxAttempts)
	}
	if want := 27*time.Hour + 35*time.Minute + 5*time.Second; total != want {
		t.Errorf("retries span %s, want %s", total, want)
	}
	if w, _ := Backoff(1); w != 5*time.Second {
		t.Errorf("first retry after %s", w)
	}
	if _, ok := Backoff(0); ok {
		t.Error("Backoff(0) ok")
	}
}
