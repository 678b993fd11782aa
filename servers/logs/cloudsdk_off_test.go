//go:build nocloudsdk

package logs

import (
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
)

func TestLeanBuildExplainsMissingProviders(t *testing.T) {
	for _, p := range []string{"cloudwatch", "gcloud"} {
		conn := config.Connection{Category: Category, Provider: p, Settings: map[string]string{}}
		_, err := New(t.Context(), Config{Connections: []config.Connection{conn}})
		if err == nil || !strings.Contains(err.Error(), "built without") {
			t.Errorf("%s in a nocloudsdk build: got %v", p, err)
		}
	}
}
