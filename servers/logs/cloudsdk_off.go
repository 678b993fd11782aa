//go:build nocloudsdk

package logs

import (
	"context"
	"fmt"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/toolkit"
)

// Built with -tags nocloudsdk: the CloudWatch and Cloud Logging providers
// are left out, with the AWS and Google client libraries they import (they
// add about 5 ms of package initialisation to every start of the binary).
// A connection that names them gets an error saying so.

func init() {
	for _, p := range []*provider{
		{name: "cloudwatch", aliases: []string{"aws-cloudwatch", "cloudwatch-logs"}, title: "AWS CloudWatch Logs"},
		{name: "gcloud", aliases: []string{"gcloud-logging", "google-cloud-logging"}, title: "Google Cloud Logging"},
	} {
		p := p
		p.defaultName = func(config.Values) string { return p.name }
		p.open = func(context.Context, config.Values, openOptions) (backend, error) {
			return nil, fmt.Errorf("this opstower was built without the %s provider (build tag nocloudsdk); use a standard build", p.title)
		}
		registerProvider(p)
	}
}

func (h *handlers) cloudwatchTools() []toolkit.Tool { return nil }
