package cloudlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/logging"
	"cloud.google.com/go/logging/logadmin"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	auditpb "google.golang.org/genproto/googleapis/cloud/audit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/lazy"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Google Cloud Logging through cloud.google.com/go/logging's logadmin
// client, which speaks gRPC to logging.googleapis.com: entries by the
// Logging query language (ListLogEntries, newest first), log names
// (ListLogs). The client is built on first use, so starting the server
// never reads credentials or dials. Audit log entries carry a protobuf
// payload; its type is linked in (auditpb) so such entries can be read.

var gcloudProvider = logs.Provider{
	Provider: connections.Provider{
		Name:    "gcloud",
		Aliases: []string{"gcloud-logging", "google-cloud-logging"},
		Title:   "Google Cloud Logging",
		Fields: []config.Field{
			{Name: "project_id", Required: true, Env: "GOOGLE_CLOUD_PROJECT", Help: "the project whose logs are read, e.g. my-project-123"},
			{Name: "credentials_json", Secret: true, Env: "GOOGLE_CREDENTIALS_JSON", Help: "the service account key (JSON) of an account with roles/logging.viewer"},
			{Name: "credentials_file", Env: "GOOGLE_APPLICATION_CREDENTIALS", Help: "path of that key file, instead of credentials_json"},
			{Name: "default_filter", Help: `a filter ANDed to every query, e.g. resource.type="cloud_run_revision"`},
			{Name: "endpoint", Help: "gRPC endpoint host:port; a loopback address is dialled without TLS or credentials (for an emulator)"},
		},
		DefaultName: func(config.Values) string { return "gcloud" },
	},
	Open:         openGCloud,
	NativeFilter: "Cloud Logging: the Logging query language",
}

// resourceTypesWindow is how far back Sources looks for the resource types
// that are logging.
const resourceTypesWindow = 24 * time.Hour

type gcloud struct {
	project string
	filter  string
	client  *lazy.Value[*logadmin.Client]
}

func openGCloud(v config.Values) (logs.Backend, error) {
	project := strings.TrimSpace(v.Get("project_id"))
	if project == "" || strings.ContainsAny(project, " /") {
		return nil, fmt.Errorf("project_id %q is not a project ID: use the lowercase ID shown under the project name (my-project-123)", project)
	}
	var opts []option.ClientOption
	endpoint := strings.TrimSpace(v.Get("endpoint"))
	creds, file := v.Secret("credentials_json"), strings.TrimSpace(v.Get("credentials_file"))
	switch {
	case endpoint != "" && isLoopbackHostPort(endpoint):
		opts = append(opts, option.WithEndpoint(endpoint), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	case !creds.IsZero():
		if err := checkServiceAccount([]byte(creds.Reveal())); err != nil {
			return nil, fmt.Errorf("credentials_json: %w", err)
		}
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(creds.Reveal())))
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("credentials_file: %s", logtext.DescribeFileErr(err))
		}
		if err := checkServiceAccount(data); err != nil {
			return nil, fmt.Errorf("credentials_file %s: %w", file, err)
		}
		secret.New(string(data))
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, data))
	default:
		return nil, errors.New("needs credentials: paste the service account key JSON as credentials_json (or GOOGLE_CREDENTIALS_JSON), or set credentials_file (GOOGLE_APPLICATION_CREDENTIALS)")
	}
	if endpoint != "" && !isLoopbackHostPort(endpoint) {
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	opts = append(opts, option.WithTelemetryDisabled(), option.WithScopes(logging.ReadScope))
	g := &gcloud{project: project, filter: strings.TrimSpace(v.Get("default_filter"))}
	g.client = lazy.New(func(ctx context.Context) (*logadmin.Client, error) {
		c, err := logadmin.NewClient(context.WithoutCancel(ctx), project, opts...)
		if err != nil {
			return nil, fmt.Errorf("cannot set up the Cloud Logging client: %s", secret.Scrub(err.Error()))
		}
		return c, nil
	})
	return g, nil
}

// checkServiceAccount says early and clearly when a key is not one.
func checkServiceAccount(data []byte) error {
	var key struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(data, &key); err != nil {
		return errors.New("is not JSON; paste the whole key file downloaded from IAM & Admin → Service Accounts → Keys")
	}
	if key.Type != "service_account" || key.ClientEmail == "" || key.PrivateKey == "" {
		return fmt.Errorf("is not a service account key (type %q); create a JSON key for a service account with roles/logging.viewer", key.Type)
	}
	return nil
}

func isLoopbackHostPort(hp string) bool {
	host, _, err := net.SplitHostPort(hp)
	return err == nil && httpapi.IsLoopback(host)
}

func (g *gcloud) Close() error {
	if c, ok := g.client.Peek(); ok {
		return c.Close()
	}
	return nil
}

// AppliesAll: time, level, text, log name and native filters all go to
// Cloud Logging.
func (g *gcloud) AppliesAll(*logs.Query) bool { return true }

// gcpError explains a gRPC status from Cloud Logging.
func (g *gcloud) gcpError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := secret.Scrub(st.Message())
	switch st.Code() {
	case codes.Unauthenticated:
		return fmt.Errorf("Google Cloud rejected the credentials (UNAUTHENTICATED): the service account key is wrong, deleted or disabled; create a new JSON key and update the connection. Google said: %s", msg)
	case codes.PermissionDenied:
		return fmt.Errorf("Google Cloud refused access (PERMISSION_DENIED): the service account needs roles/logging.viewer on project %s. Google said: %s", g.project, msg)
	case codes.InvalidArgument:
		return toolkit.Errorf("Cloud Logging refused the query: %s; check the filter syntax (field=\"value\", AND/OR, severity>=ERROR)", msg)
	case codes.NotFound:
		return toolkit.Errorf("Cloud Logging found no project %s, or this key cannot see it: %s", g.project, msg)
	case codes.ResourceExhausted:
		return toolkit.Errorf("Cloud Logging's read quota is used up for now (RESOURCE_EXHAUSTED); wait a minute, and narrow since/until. Google said: %s", msg)
	case codes.Unavailable:
		return fmt.Errorf("cannot reach Cloud Logging (UNAVAILABLE): %s", msg)
	case codes.DeadlineExceeded, codes.Canceled:
		return context.DeadlineExceeded
	}
	return fmt.Errorf("Cloud Logging error %s: %s", st.Code(), msg)
}

// logNames lists the project's log IDs.
func (g *gcloud) logNames(ctx context.Context, max int) ([]string, error) {
	c, err := g.client.Get(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	it := c.Logs(ctx)
	for len(out) < max {
		name, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, g.gcpError(err)
		}
		out = append(out, name)
	}
	return out, nil
}

func (g *gcloud) Sources(ctx context.Context, pattern string) (*logs.SourceTable, error) {
	names, err := g.logNames(ctx, 1000)
	if err != nil {
		return nil, err
	}
	t := &logs.SourceTable{Columns: []render.Column{{Name: "name"}, {Name: "kind"}, {Name: "recent_entries"}}}
	for _, n := range names {
		if pattern == "" || strings.Contains(strings.ToLower(n), strings.ToLower(pattern)) {
			t.Rows = append(t.Rows, []string{n, "log", ""})
		}
	}
	// Resource types come from the newest entries: which services are
	// logging now, not every type Google defines.
	types := map[string]int{}
	q := &logs.Query{Range: timerange.Range{Start: time.Now().Add(-resourceTypesWindow), End: time.Now()}}
	if _, err := g.Fetch(ctx, q, 500, func(e *logs.Event) bool {
		for _, f := range e.Fields {
			if f.Key == "resource.type" {
				types[f.Value]++
				break
			}
		}
		return true
	}); err != nil {
		return nil, err
	}
	var rts []string
	for rt := range types {
		rts = append(rts, rt)
	}
	sort.Slice(rts, func(i, j int) bool { return types[rts[i]] > types[rts[j]] })
	for _, rt := range rts {
		if pattern == "" || strings.Contains(strings.ToLower(rt), strings.ToLower(pattern)) {
			t.Rows = append(t.Rows, []string{rt, "resource type", strconv.Itoa(types[rt])})
		}
	}
	t.Note = fmt.Sprintf("Project %s; resource types are those among the newest 500 entries of the last 24h; use them in filter as resource.type=\"...\".", g.project)
	if g.filter != "" {
		t.Note += " Every query is ANDed with " + g.filter + "."
	}
	return t, nil
}

// severityName is the Cloud Logging severity for a minimum level.
var severityName = map[logs.Level]string{logs.LevelTrace: "DEBUG", logs.LevelDebug: "DEBUG", logs.LevelInfo: "INFO", logs.LevelWarn: "WARNING", logs.LevelError: "ERROR", logs.LevelFatal: "CRITICAL"}

// query builds the Logging query for q.
func (g *gcloud) query(q *logs.Query) string {
	var parts []string
	if g.filter != "" {
		parts = append(parts, "("+g.filter+")")
	}
	r := q.Range
	parts = append(parts, fmt.Sprintf(`timestamp>=%q`, r.Start.UTC().Format(time.RFC3339Nano)), fmt.Sprintf(`timestamp<%q`, r.End.UTC().Format(time.RFC3339Nano)))
	if s := severityName[q.MinLevel]; s != "" {
		parts = append(parts, "severity>="+s)
	}
	if q.Source != "" {
		name := q.Source
		if !strings.HasPrefix(name, "projects/") {
			name = "projects/" + g.project + "/logs/" + strings.ReplaceAll(name, "/", "%2F")
		}
		parts = append(parts, fmt.Sprintf(`logName=%q`, name))
	}
	if q.Text != "" {
		parts = append(parts, fmt.Sprintf("%q", q.Text))
	}
	if q.Native != "" {
		parts = append(parts, "("+q.Native+")")
	}
	return strings.Join(parts, " AND ")
}

func (g *gcloud) Fetch(ctx context.Context, q *logs.Query, max int, fn func(*logs.Event) bool) (logs.Scan, error) {
	c, err := g.client.Get(ctx)
	if err != nil {
		return logs.Scan{}, err
	}
	info := logs.Scan{Sources: []string{"project " + g.project}}
	if q.Source != "" {
		info.Sources = []string{q.Source}
	}
	it := c.Entries(ctx, logadmin.Filter(g.query(q)), logadmin.NewestFirst(), logadmin.PageSize(int32(min(max, 1000))))
	n := 0
	for n < max {
		entry, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return info, g.gcpError(err)
		}
		n++
		e := gcpEvent(entry)
		if !fn(&e) {
			break
		}
	}
	if n == 0 && q.Source != "" {
		// Cloud Logging answers an unknown log name with no entries; say
		// so, with the names it has.
		if names, err := g.logNames(ctx, 1000); err == nil && !slices.Contains(names, strings.TrimPrefix(q.Source, "projects/"+g.project+"/logs/")) {
			return info, toolkit.Errorf("project %s has no log %q%s", g.project, q.Source, logtext.DidYouMean(q.Source, names))
		}
	}
	info.Scanned = fmt.Sprintf("%s entries", render.Count(n))
	return info, nil
}

// gcpEvent maps an entry: text payloads are the message; JSON payloads
// give message and fields; audit logs a one-line summary.
func gcpEvent(en *logging.Entry) logs.Event {
	var e logs.Event
	switch p := en.Payload.(type) {
	case string:
		e.Message = p
	case *structpb.Struct:
		e = logs.RecordEvent(p.AsMap(), "")
	case *auditpb.AuditLog:
		e.Message = strings.TrimSpace(p.GetServiceName() + " " + p.GetMethodName() + " " + p.GetResourceName())
		if who := p.GetAuthenticationInfo().GetPrincipalEmail(); who != "" {
			e.Fields = append(e.Fields, logs.Field{Key: "principal", Value: who})
		}
		if st := p.GetStatus(); st != nil && st.GetCode() != 0 {
			e.Fields = append(e.Fields, logs.Field{Key: "status", Value: fmt.Sprintf("%d %s", st.GetCode(), st.GetMessage())})
		}
	case proto.Message:
		b, _ := protojson.Marshal(p)
		e.Message = logtext.Shorten(string(b), 500)
	case nil:
	default:
		e.Message = fmt.Sprint(p)
	}
	e.Time = en.Timestamp.UTC()
	e.Level = severityLevel(en.Severity)
	e.Source = en.LogName
	if i := strings.Index(e.Source, "/logs/"); i >= 0 {
		e.Source = e.Source[i+len("/logs/"):]
	}
	if r := en.Resource; r != nil {
		e.Fields = append(e.Fields, logs.Field{Key: "resource.type", Value: r.GetType()})
		keys := make([]string, 0, len(r.GetLabels()))
		for k := range r.GetLabels() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e.Fields = append(e.Fields, logs.Field{Key: "resource.labels." + k, Value: r.GetLabels()[k]})
		}
	}
	if hr := en.HTTPRequest; hr != nil {
		if hr.Request != nil {
			e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.method", Value: hr.Request.Method})
			if hr.Request.URL != nil {
				e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.url", Value: hr.Request.URL.String()})
			}
		}
		if hr.Status != 0 {
			e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.status", Value: strconv.Itoa(hr.Status)})
		}
		if hr.Latency != 0 {
			e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.latency", Value: hr.Latency.String()})
		}
	}
	keys := make([]string, 0, len(en.Labels))
	for k := range en.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.Fields = append(e.Fields, logs.Field{Key: "labels." + k, Value: en.Labels[k]})
	}
	if en.Trace != "" {
		e.Fields = append(e.Fields, logs.Field{Key: "trace", Value: en.Trace})
	}
	var raw strings.Builder
	raw.WriteString(e.Message)
	for _, f := range e.Fields {
		raw.WriteString(" " + f.Key + "=" + f.Value)
	}
	e.Raw = raw.String()
	return e
}

func severityLevel(s logging.Severity) logs.Level {
	switch {
	case s >= logging.Critical:
		return logs.LevelFatal
	case s >= logging.Error:
		return logs.LevelError
	case s >= logging.Warning:
		return logs.LevelWarn
	case s >= logging.Info:
		return logs.LevelInfo
	case s >= logging.Debug:
		return logs.LevelDebug
	}
	return 0 // none
}
