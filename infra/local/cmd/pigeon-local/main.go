// Command pigeon-local runs the whole of Pigeon on this machine (`make dev`): embedded DynamoDB
// and S3, SMTP in, the REST and WebSocket APIs out, with its data in PIGEON_DATA_DIR (default
// build/data under the working directory; PIGEON_EPHEMERAL=1 for a throw-away run). Settings
// come from the environment (see package local); SIGINT or SIGTERM stops it cleanly.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
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
	if addr := os.Getenv("PIGEON_PPROF_ADDR"); addr != "" {
		// Go's profiler (net/http/pprof), for finding what the local stack spends its time on.
		go func() { log.Error("pprof", "err", http.ListenAndServe(addr, nil)) }()
	}
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
	fmt.Fprintf(out, "  API key    %s   (%s)\n", st.APIKey, keyNote(st))
	fmt.Fprintf(out, "  S3         %s   (bucket %s)\n", st.S3Endpoint, st.Config.Bucket)
	fmt.Fprintf(out, "  DynamoDB   %s   (table %s)\n", st.DynamoDBEndpoint, st.Config.Table)
	if st.Ephemeral {
		fmt.Fprintf(out, "  Data       %s   (ephemeral: removed at exit)\n", st.DataDir)
	} else {
		fmt.Fprintf(out, "  Data       %s   (PIGEON_DATA_DIR; kept across restarts)\n", st.DataDir)
	}
	fmt.Fprintf(out, "Try: curl -H 'Authorization: Bearer %s' -X POST %s/v0/inboxes\n", st.APIKey, st.RESTURL)
	if f, ok := out.(*os.File); ok {
		_ = f.Sync()
	}

	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// keyNote says where the printed key came from.
func keyNote(st *local.Stack) string {
	switch st.KeySource {
	case local.KeyGenerated:
		if st.Ephemeral {
			return "generated for this run"
		}
		return "generated, kept in " + filepath.Join(st.DataDir, "api-key")
	case local.KeyKept:
		return "kept in " + filepath.Join(st.DataDir, "api-key")
	default:
		return "from PIGEON_API_KEY"
	}
}
