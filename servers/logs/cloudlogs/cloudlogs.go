// Package cloudlogs adds AWS CloudWatch Logs and Google Cloud Logging to
// the logs server (package logs), with CloudWatch's Logs Insights tool
// cloudwatch_insights_query. Import it for its side effect:
//
//	import _ "github.com/opstower/opstower/servers/logs/cloudlogs"
//
// Its init registers both providers with logs.Register. They are kept
// apart because the initialisation of their client libraries (the AWS
// SDK, and Google's Cloud Logging client over gRPC) adds more than 10 MB
// of resident memory to every process that links them, whether or not it
// reads cloud logs. Without this package a connection to either fails in
// logs.New with an error that wraps logs.ErrNotLinked.
package cloudlogs

import "github.com/opstower/opstower/servers/logs"

func init() {
	logs.Register(cloudwatchProvider)
	logs.Register(gcloudProvider)
}
