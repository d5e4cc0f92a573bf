// Command infra is Pigeon's CDK app (cdk.json: `go run ./infra`). It reads the deployment's
// settings from the CDK context and the environment (see stack.Config), checks that the functions
// have been built, and synthesizes the one stack into CDK_OUTDIR (cdk.out under the CDK CLI).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/pigeon-mail/pigeon/infra/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	jsii.Close()
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := stack.FromLookup(func(key, env string) (string, bool) {
		if v := app.Node().TryGetContext(jsii.String(key)); v != nil {
			return fmt.Sprint(v), true
		}
		return os.LookupEnv(env)
	})
	if err != nil {
		return err
	}
	if err := cfg.CheckAssets(); err != nil {
		return err
	}
	stack.New(app, cfg)
	app.Synth(nil)
	return nil
}
