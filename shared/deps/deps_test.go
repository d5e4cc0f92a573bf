package deps

import (
	"bytes"
	"context"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/config"
)

func TestSecretAndTokenKey(t *testing.T) {
	d := Deps{Config: config.Config{APIKey: "am_local"}}
	secret, err := d.BootstrapSecret(context.Background())
	if err != nil || secret != "am_local" {
		t.Fatalf("local bootstrap secret = %q, %v; want PIGEON_API_KEY", secret, err)
	}
	if got := d.TokenKey(secret); !bytes.Equal(got, auth.TokenKey("am_local")) {
		t.Errorf("token key without PIGEON_TOKEN_SECRET is not derived from the secret")
	}
	d.Config.TokenSecret = "tok"
	if got := d.TokenKey(secret); string(got) != "tok" {
		t.Errorf("token key = %q, want PIGEON_TOKEN_SECRET", got)
	}
}
