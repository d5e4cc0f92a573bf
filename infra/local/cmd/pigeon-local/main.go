// Command pigeon-local runs the whole of Pigeon on this machine (`make dev`): embedded DynamoDB
// and S3, SMTP in, the REST and WebSocket APIs out. Settings come from the environment (see package local);
// SIGINT or SIGTERM stops it cleanly.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pigeon-mail/pigeon/infra/local"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pigeon-local:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	set := local.SettingsFromEnv()
	set.Log = log
	st, err := local.Start(ctx, set)
	if err != nil {
		return err
	}
	defer st.Close()

	fmt.Fprintf(out, "Pigeon is running (domain %s).\n", st.Config.DefaultDomain())
	fmt.Fprintf(out, "  REST API   %s   (SDK base URL; routes under /v0)\n", st.RESTURL)
	fmt.Fprintf(out, "  WebSocket  %s?api_key=…   (SDK environment.websockets: %s)\n", st.WebSocketURL, strings.TrimSuffix(st.WebSocketURL, "/v0"))
	fmt.Fprintf(out, "  SMTP       %s\n", st.SMTPAddr)
	fmt.Fprintf(out, "  SES v2     %s   (sends; mail to other domains: GET %s)\n", st.SESEndpoint, st.OutboxURL)
	fmt.Fprintf(out, "  API key    %s\n", st.APIKey)
	fmt.Fprintf(out, "  S3         %s   (bucket %s)\n", st.S3Endpoint, st.Config.Bucket)
	fmt.Fprintf(out, "  DynamoDB   %s   (table %s)\n", st.DynamoDBEndpoint, st.Config.Table)
	fmt.Fprintf(out, "Try: curl -H 'Authorization: Bearer %s' -X POST %s/v0/inboxes\n", st.APIKey, st.RESTURL)
	if f, ok := out.(*os.File); ok {
		_ = f.Sync()
	}

	<-ctx.Done()
	log.Info("shutting down")
	return nil
}
