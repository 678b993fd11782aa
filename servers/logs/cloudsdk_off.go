//go:build nocloudsdk

package logs

import (
	"context"
	"fmt"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/toolkit"
)

// Built with -tags nocloudsdk: the CloudWatch and Cloud Logging providers
// are left out, with the AWS and Google client libraries they import (they
// add about 5 ms of package initialisation to every start of the binary).
// A connection that names them gets an error saying so.

func init() {
	for _, p := range []*provider{
		{Provider: connections.Provider{Name: "cloudwatch", Aliases: []string{"aws-cloudwatch", "cloudwatch-logs"}, Title: "AWS CloudWatch Logs"}},
		{Provider: connections.Provider{Name: "gcloud", Aliases: []string{"gcloud-logging", "google-cloud-logging"}, Title: "Google Cloud Logging"}},
	} {
		p.open = func(context.Context, config.Values, openOptions) (backend, error) {
			return nil, fmt.Errorf("this opstower was built without the %s provider (build tag nocloudsdk); use a standard build", p.Title)
		}
		registerProvider(p)
	}
}

func (h *handlers) cloudwatchTools() []toolkit.Tool { return nil }
