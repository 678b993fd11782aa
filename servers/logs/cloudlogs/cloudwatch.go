package cloudlogs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// AWS CloudWatch Logs through aws-sdk-go-v2's cloudwatchlogs client:
// DescribeLogGroups for the sources, FilterLogEvents for search, counts
// and signatures, GetLogGroupFields for field names, and Logs Insights
// (StartQuery, GetQueryResults until done, StopQuery on cancel or
// deadline) for the cloudwatch_insights_query tool. Credentials are the
// connection's static access key: the SDK's config loader (profiles, SSO,
// instance roles) is left out on purpose, to keep the binary's start fast
// and the credential explicit.

var cloudwatchProvider = logs.Provider{
	Provider: connections.Provider{
		Name:    "cloudwatch",
		Aliases: []string{"aws-cloudwatch", "cloudwatch-logs"},
		Title:   "AWS CloudWatch Logs",
		Fields: []config.Field{
			{Name: "access_key_id", Required: true, Env: "AWS_ACCESS_KEY_ID", Help: "access key of an IAM user with CloudWatchLogsReadOnlyAccess"},
			{Name: "secret_access_key", Secret: true, Required: true, Env: "AWS_SECRET_ACCESS_KEY", Help: "its secret key"},
			{Name: "session_token", Secret: true, Env: "AWS_SESSION_TOKEN", Help: "session token, for temporary credentials"},
			{Name: "region", Required: true, Env: "AWS_REGION", Help: "region of the logs, e.g. us-east-1"},
			{Name: "log_group", Help: "log group searched when a call names none, e.g. /aws/lambda/my-function"},
			{Name: "endpoint", Help: "API endpoint URL, for VPC endpoints or a local emulator"},
		},
		DefaultName: func(v config.Values) string { return "cloudwatch" },
	},
	Open:         openCloudWatch,
	NativeFilter: "CloudWatch: a filter pattern",
	// FilterLogEvents returns the oldest events first.
	Ascending: true,
	Tools:     insightsTools,
}

// cloudwatchMaxBackoff caps the SDK's wait between retries of throttled
// calls; tests shorten it.
var cloudwatchMaxBackoff = 5 * time.Second

type cloudwatch struct {
	client   *cwl.Client
	logGroup string
	region   string
}

func openCloudWatch(v config.Values) (logs.Backend, error) {
	region := strings.TrimSpace(v.Get("region"))
	ak, sk, st := strings.TrimSpace(v.Get("access_key_id")), v.Secret("secret_access_key"), v.Secret("session_token")
	opts := cwl.Options{
		Region: region,
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk.Reveal(), SessionToken: st.Reveal(), Source: "opstower connection"}, nil
		})),
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 4
			so.MaxBackoff = cloudwatchMaxBackoff
		}),
	}
	if ep := strings.TrimSpace(v.Get("endpoint")); ep != "" {
		u, err := httpapi.BaseURL(ep, "https://logs."+region+".amazonaws.com", "endpoint")
		if err != nil {
			return nil, err
		}
		opts.BaseEndpoint = aws.String(u)
	}
	return &cloudwatch{client: cwl.New(opts), logGroup: strings.TrimSpace(v.Get("log_group")), region: region}, nil
}

func (c *cloudwatch) Close() error { return nil }

// AppliesAll: text goes to the filter pattern only when it is exact (the
// patterns are case-sensitive); levels are checked by the tools.
func (c *cloudwatch) AppliesAll(q *logs.Query) bool {
	return q.MinLevel == 0 && (q.Text == "" || !q.AnyCase || !hasLetter(q.Text))
}

func hasLetter(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}

// awsError turns an SDK error into one a model or a person can act on.
func (c *cloudwatch) awsError(err error, what string) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		var me *retry.MaxAttemptsError
		if errors.As(err, &me) {
			return fmt.Errorf("CloudWatch Logs kept failing after %d attempts: %w", me.Attempt, me.Err)
		}
		return err
	}
	msg := ae.ErrorMessage()
	switch ae.ErrorCode() {
	case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "IncompleteSignature", "InvalidClientTokenId", "ExpiredToken":
		return fmt.Errorf("AWS rejected the credentials (%s): the access key is wrong, expired or deactivated, or the secret key does not match it; create a new key for the IAM user and update the connection. AWS said: %s", ae.ErrorCode(), msg)
	case "AccessDeniedException":
		return fmt.Errorf("AWS refused access (AccessDeniedException): the IAM user needs CloudWatchLogsReadOnlyAccess (logs:DescribeLogGroups, logs:FilterLogEvents, logs:StartQuery, logs:GetQueryResults, logs:StopQuery). AWS said: %s", msg)
	case "ThrottlingException", "LimitExceededException", "ServiceQuotaExceededException":
		return toolkit.Errorf("CloudWatch Logs is throttling these requests (%s) even after retries; wait a little, and narrow the window or the log groups. AWS said: %s", ae.ErrorCode(), msg)
	case "ResourceNotFoundException":
		return &cwNotFound{what: what, msg: msg}
	case "InvalidParameterException", "MalformedQueryException", "InvalidOperationException":
		return toolkit.Errorf("CloudWatch Logs refused the request (%s): %s", ae.ErrorCode(), msg)
	}
	return fmt.Errorf("CloudWatch Logs error %s: %s", ae.ErrorCode(), msg)
}

type cwNotFound struct{ what, msg string }

func (e *cwNotFound) Error() string { return e.msg }

// notFound adds the closest log group names to a not-found error.
func (c *cloudwatch) notFound(ctx context.Context, err error, groups ...string) error {
	var nf *cwNotFound
	if !errors.As(err, &nf) {
		return err
	}
	names, _ := c.groupNames(ctx, "")
	name := strings.Join(groups, ", ")
	return toolkit.Errorf("CloudWatch Logs in %s has no log group %s%s", c.region, name, logtext.DidYouMean(name, names))
}

func (c *cloudwatch) groupNames(ctx context.Context, pattern string) ([]string, error) {
	groups, err := c.describe(ctx, pattern, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = aws.ToString(g.LogGroupName)
	}
	return out, nil
}

func (c *cloudwatch) describe(ctx context.Context, pattern string, max int) ([]types.LogGroup, error) {
	in := &cwl.DescribeLogGroupsInput{Limit: aws.Int32(50)}
	if pattern != "" {
		in.LogGroupNamePattern = aws.String(pattern)
	}
	var out []types.LogGroup
	p := cwl.NewDescribeLogGroupsPaginator(c.client, in)
	for p.HasMorePages() && len(out) < max {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, c.awsError(err, "log groups")
		}
		out = append(out, page.LogGroups...)
	}
	return out, nil
}

func (c *cloudwatch) Sources(ctx context.Context, pattern string) (*logs.SourceTable, error) {
	groups, err := c.describe(ctx, pattern, 1000)
	if err != nil {
		return nil, err
	}
	t := &logs.SourceTable{Columns: []render.Column{{Name: "log_group"}, {Name: "stored"}, {Name: "retention_days"}, {Name: "created"}, {Name: "class"}}}
	for _, g := range groups {
		ret := "never expires"
		if g.RetentionInDays != nil {
			ret = strconv.Itoa(int(*g.RetentionInDays))
		}
		created := ""
		if g.CreationTime != nil {
			created = logtext.When(time.UnixMilli(*g.CreationTime))
		}
		t.Rows = append(t.Rows, []string{aws.ToString(g.LogGroupName), render.Bytes(int(aws.ToInt64(g.StoredBytes))), ret, created, string(g.LogGroupClass)})
	}
	t.Note = "Region " + c.region + "."
	if len(groups) >= 1000 {
		t.Note += " The first 1,000 groups are listed; pass pattern to narrow."
	}
	if c.logGroup != "" {
		t.Note += " Default log group: " + c.logGroup + "."
	}
	return t, nil
}

func (c *cloudwatch) group(q *logs.Query) (string, error) {
	g := cmp.Or(q.Source, c.logGroup)
	if g == "" {
		return "", toolkit.Errorf("pass source: the log group to search (list_log_sources lists them), or set log_group on the connection")
	}
	return g, nil
}

// filterPattern is what goes to FilterLogEvents: the native pattern, or
// the exact text as a quoted term.
func filterPattern(q *logs.Query) string {
	switch {
	case q.Native != "":
		return q.Native
	case q.Text != "" && (!q.AnyCase || !hasLetter(q.Text)):
		return `"` + strings.ReplaceAll(q.Text, `"`, `\"`) + `"`
	}
	return ""
}

func (c *cloudwatch) Fetch(ctx context.Context, q *logs.Query, max int, fn func(*logs.Event) bool) (logs.Scan, error) {
	g, err := c.group(q)
	if err != nil {
		return logs.Scan{}, err
	}
	r := q.Range
	in := &cwl.FilterLogEventsInput{
		LogGroupName: aws.String(g),
		StartTime:    aws.Int64(r.Start.UnixMilli()),
		EndTime:      aws.Int64(r.End.UnixMilli() - 1),
		Limit:        aws.Int32(int32(min(max, 10000))),
	}
	if p := filterPattern(q); p != "" {
		in.FilterPattern = aws.String(p)
	}
	info := logs.Scan{Sources: []string{g}}
	n, pages := 0, 0
	p := cwl.NewFilterLogEventsPaginator(c.client, in)
	for p.HasMorePages() && n < max {
		page, err := p.NextPage(ctx)
		if err != nil {
			return info, c.notFound(ctx, c.awsError(err, "log group"), g)
		}
		pages++
		for _, ev := range page.Events {
			n++
			e := cwEvent(ev)
			if !fn(&e) || n >= max {
				info.Scanned = fmt.Sprintf("%s events in %d pages of %s", render.Count(n), pages, g)
				return info, nil
			}
		}
	}
	info.Scanned = fmt.Sprintf("%s events in %d pages of %s", render.Count(n), pages, g)
	return info, nil
}

// cwEvent parses a CloudWatch message as a log line (JSON, logfmt or
// plain), with the event's own timestamp and stream.
func cwEvent(ev types.FilteredLogEvent) logs.Event {
	msg := strings.TrimRight(aws.ToString(ev.Message), "\r\n")
	e := logs.ParseLine(msg, aws.ToString(ev.LogStreamName))
	if ev.Timestamp != nil {
		e.Time = time.UnixMilli(*ev.Timestamp).UTC()
	}
	return e
}

// FieldNames reads the log group's field index (GetLogGroupFields).
func (c *cloudwatch) FieldNames(ctx context.Context, q *logs.Query) ([]logs.FieldName, logs.Scan, error) {
	g, err := c.group(q)
	if err != nil {
		return nil, logs.Scan{}, err
	}
	out, err := c.client.GetLogGroupFields(ctx, &cwl.GetLogGroupFieldsInput{LogGroupName: aws.String(g)})
	if err != nil {
		return nil, logs.Scan{}, c.notFound(ctx, c.awsError(err, "log group"), g)
	}
	var names []logs.FieldName
	for _, lf := range out.LogGroupFields {
		names = append(names, logs.FieldName{Name: aws.ToString(lf.Name), Note: fmt.Sprintf("in %d%% of events", lf.Percent)})
	}
	return names, logs.Scan{Sources: []string{g}, Scanned: "the log group's field index (last 15 minutes of events)"}, nil
}

// insightsArgs are cloudwatch_insights_query's arguments.
type insightsArgs struct {
	Connection string   `json:"connection,omitempty" jsonschema:"which connection"`
	Query      string   `json:"query" jsonschema:"Logs Insights query, e.g. filter @message like /ERROR/ | stats count() by bin(5m)"`
	LogGroups  []string `json:"log_groups,omitempty" jsonschema:"log groups to query; default the connection's log group"`
	Since      string   `json:"since,omitempty" jsonschema:"start: 15m, 2h, 7d, a date or RFC 3339; default 1h ago"`
	Until      string   `json:"until,omitempty" jsonschema:"end; default now"`
	Limit      int      `json:"limit,omitempty" jsonschema:"rows to show, default 100"`
}

// insightsTools is the Logs Insights tool, offered when a CloudWatch
// connection is loaded.
func insightsTools(conns *logs.Connections) []toolkit.Tool {
	return []toolkit.Tool{toolkit.New(toolkit.Def{
		Name:  "cloudwatch_insights_query",
		Title: "CloudWatch Logs Insights query",
		Description: "Run a Logs Insights query (fields, filter, stats ... by bin(5m), sort, limit) over log groups; waits for it, stops it on cancel or deadline. " +
			"Scans cost money: keep the window short.",
		Hints: toolkit.ReadOpenWorld,
		Schema: func(s *jsonschema.Schema) {
			conns.Schema(s)
			if p := s.Properties["log_groups"]; p != nil {
				p.Types, p.Type = nil, "array"
			}
		},
	}, func(ctx context.Context, in insightsArgs) (string, error) {
		return conns.Run(ctx, in.Connection, func(ctx context.Context, b logs.Backend) (string, error) {
			return b.(*cloudwatch).runInsights(ctx, in, conns.Limits())
		})
	})}
}

// insightsPoll is the first wait between GetQueryResults calls; it grows
// to a second. Tests shorten it.
var insightsPoll = 300 * time.Millisecond

// runInsights is the cloudwatch_insights_query tool, on this connection;
// ctx ends at the call's deadline.
func (c *cloudwatch) runInsights(ctx context.Context, in insightsArgs, limits config.Limits) (string, error) {
	q := strings.TrimSpace(in.Query)
	if q == "" {
		return "", toolkit.Errorf("query is empty; for example: fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 20")
	}
	groups := in.LogGroups
	if len(groups) == 0 && c.logGroup != "" {
		groups = []string{c.logGroup}
	}
	if len(groups) == 0 {
		return "", toolkit.Errorf("pass log_groups (list_log_sources lists them), or set log_group on the connection")
	}
	r, err := timerange.Parse(in.Since, in.Until, time.Now(), time.Hour)
	if err != nil {
		return "", toolkit.Errorf("%v", err)
	}
	limit, err := toolkit.Bounded("limit", in.Limit, limits.Rows, limits.MaxRows)
	if err != nil {
		return "", err
	}
	start := time.Now()
	started, err := c.client.StartQuery(ctx, &cwl.StartQueryInput{
		LogGroupNames: groups,
		StartTime:     aws.Int64(r.Start.Unix()),
		EndTime:       aws.Int64(r.End.Unix()),
		QueryString:   aws.String(q),
		Limit:         aws.Int32(int32(min(limit+1, 10000))),
	})
	if err != nil {
		return "", c.notFound(ctx, c.awsError(err, "log group"), groups...)
	}
	id := aws.ToString(started.QueryId)
	res, err := c.waitQuery(ctx, id)
	if err != nil {
		// Stop the query so it stops scanning (and costing) at AWS. The
		// call's context is done, so use a short one of its own.
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = c.client.StopQuery(sctx, &cwl.StopQueryInput{QueryId: aws.String(id)})
		scancel()
		if ctx.Err() != nil {
			return "", toolkit.Errorf("the Logs Insights query did not finish within %s and was stopped; shorten since/until, query fewer log groups, or add a filter before stats", time.Duration(limits.Timeout))
		}
		return "", err
	}
	return renderInsights(res, groups, r, limit, limits.Bytes, time.Since(start)), nil
}

// waitQuery polls GetQueryResults until the query ends or ctx does.
func (c *cloudwatch) waitQuery(ctx context.Context, id string) (*cwl.GetQueryResultsOutput, error) {
	wait := insightsPoll
	for {
		out, err := c.client.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String(id)})
		if err != nil {
			return nil, c.awsError(err, "query")
		}
		switch out.Status {
		case types.QueryStatusComplete:
			return out, nil
		case types.QueryStatusFailed, types.QueryStatusCancelled, types.QueryStatusTimeout, types.QueryStatusUnknown:
			return nil, toolkit.Errorf("the Logs Insights query ended with status %s; check its syntax and shorten the window", out.Status)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
	}
}

func renderInsights(res *cwl.GetQueryResultsOutput, groups []string, r timerange.Range, limit, maxBytes int, elapsed time.Duration) string {
	var cols []string
	seen := map[string]int{}
	for _, row := range res.Results {
		for _, f := range row {
			name := aws.ToString(f.Field)
			if name == "@ptr" {
				continue
			}
			if _, ok := seen[name]; !ok {
				seen[name] = len(cols)
				cols = append(cols, name)
			}
		}
	}
	stats := ""
	if s := res.Statistics; s != nil {
		stats = fmt.Sprintf(" %s records matched of %s scanned (%s).", render.Count(int(s.RecordsMatched)), render.Count(int(s.RecordsScanned)), render.Bytes(int(s.BytesScanned)))
	}
	if len(res.Results) == 0 {
		return fmt.Sprintf("The query returned no rows from %s in %s.%s Check field names (log_fields lists them) and widen since/until.", strings.Join(groups, ", "), r, stats)
	}
	rc := make([]render.Column, len(cols))
	for i, c := range cols {
		rc[i] = render.Column{Name: c}
	}
	t := render.NewTable(rc, limit, maxBytes)
	for _, row := range res.Results {
		cells := make([][]byte, len(cols))
		for _, f := range row {
			if i, ok := seen[aws.ToString(f.Field)]; ok && f.Value != nil {
				cells[i] = []byte(logtext.OneLine(aws.ToString(f.Value)))
			}
		}
		if !t.Add(cells) {
			break
		}
	}
	summary := fmt.Sprintf("%s rows from %s in %s; %s.%s", render.Count(len(res.Results)), strings.Join(groups, ", "), r, logtext.Millis(elapsed), stats)
	return t.Render(summary, "Add | limit, aggregate with stats, or narrow since/until.")
}
