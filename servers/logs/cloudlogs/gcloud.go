package cloudlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	vkit "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	auditpb "google.golang.org/genproto/googleapis/cloud/audit"
	ltype "google.golang.org/genproto/googleapis/logging/type"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/lazy"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Google Cloud Logging through the generated client of
// cloud.google.com/go/logging (apiv2), which speaks gRPC to
// logging.googleapis.com: entries by the Logging query language
// (ListLogEntries, newest first), log names (ListLogs). The client is built
// on first use, so starting the server never reads credentials or dials.
//
// Entries are mapped here from the wire type rather than through logadmin,
// whose conversion fails the whole listing on one entry it cannot convert:
// a protoPayload whose message type is not linked into this program (App
// Engine's request log, any service's own payload), or an httpRequest
// whose URL does not parse. Audit logs, the common protobuf payload, are
// linked in (auditpb) and summarised; other types are named, not decoded.

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

// readScope is Cloud Logging's read-only OAuth scope (logging.ReadScope).
const readScope = "https://www.googleapis.com/auth/logging.read"

type gcloud struct {
	project string
	filter  string
	client  *lazy.Value[*vkit.Client]
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
	opts = append(opts, option.WithTelemetryDisabled(), option.WithScopes(readScope))
	g := &gcloud{project: project, filter: strings.TrimSpace(v.Get("default_filter"))}
	g.client = lazy.New(func(ctx context.Context) (*vkit.Client, error) {
		c, err := vkit.NewClient(context.WithoutCancel(ctx), opts...)
		if err != nil {
			return nil, fmt.Errorf("cannot set up the Cloud Logging client: %s", secret.Scrub(err.Error()))
		}
		// Identify as the Cloud Logging client library, as its logadmin
		// client does (x-goog-api-client: gccl/VERSION).
		c.SetGoogleClientInfo("gccl", loggingModuleVersion())
		return c, nil
	})
	return g, nil
}

// loggingModuleVersion is the version of cloud.google.com/go/logging built
// into this program, without the "v".
func loggingModuleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "cloud.google.com/go/logging" && d.Version != "" {
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "UNKNOWN"
}

func (g *gcloud) parent() string { return "projects/" + g.project }

// logSlash undoes the escaping of "/" in log IDs within log names.
var logSlash = strings.NewReplacer("%2F", "/", "%2f", "/")

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
	it := c.ListLogs(ctx, &loggingpb.ListLogsRequest{Parent: g.parent()})
	for len(out) < max {
		name, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, g.gcpError(err)
		}
		out = append(out, logSlash.Replace(strings.TrimPrefix(name, g.parent()+"/logs/")))
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
	it := c.ListLogEntries(ctx, &loggingpb.ListLogEntriesRequest{
		ResourceNames: []string{g.parent()},
		Filter:        g.query(q),
		OrderBy:       "timestamp desc",
		PageSize:      int32(min(max, 1000)),
	})
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
// give message and fields; protobuf payloads see protoEvent.
func gcpEvent(en *loggingpb.LogEntry) logs.Event {
	var e logs.Event
	switch p := en.GetPayload().(type) {
	case *loggingpb.LogEntry_TextPayload:
		e.Message = p.TextPayload
	case *loggingpb.LogEntry_JsonPayload:
		e = logs.RecordEvent(p.JsonPayload.AsMap(), "")
	case *loggingpb.LogEntry_ProtoPayload:
		e = protoEvent(p.ProtoPayload)
	}
	if ts := en.GetTimestamp(); ts.IsValid() {
		e.Time = ts.AsTime().UTC()
	} else if ts := en.GetReceiveTimestamp(); ts.IsValid() {
		e.Time = ts.AsTime().UTC()
	}
	e.Level = severityLevel(en.GetSeverity())
	e.Source = logSlash.Replace(en.GetLogName())
	if i := strings.Index(e.Source, "/logs/"); i >= 0 {
		e.Source = e.Source[i+len("/logs/"):]
	}
	if r := en.GetResource(); r != nil {
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
	if hr := en.GetHttpRequest(); hr != nil {
		e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.method", Value: hr.GetRequestMethod()}, logs.Field{Key: "httpRequest.url", Value: hr.GetRequestUrl()})
		if hr.GetStatus() != 0 {
			e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.status", Value: strconv.Itoa(int(hr.GetStatus()))})
		}
		if l := hr.GetLatency(); l.IsValid() && l.AsDuration() != 0 {
			e.Fields = append(e.Fields, logs.Field{Key: "httpRequest.latency", Value: l.AsDuration().String()})
		}
	}
	keys := make([]string, 0, len(en.GetLabels()))
	for k := range en.GetLabels() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.Fields = append(e.Fields, logs.Field{Key: "labels." + k, Value: en.GetLabels()[k]})
	}
	if en.GetTrace() != "" {
		e.Fields = append(e.Fields, logs.Field{Key: "trace", Value: en.GetTrace()})
	}
	var raw strings.Builder
	raw.WriteString(e.Message)
	for _, f := range e.Fields {
		raw.WriteString(" " + f.Key + "=" + f.Value)
	}
	e.Raw = raw.String()
	return e
}

// protoEvent maps a protobuf payload. Audit logs give a one-line summary;
// other types linked into this program give their JSON. A type that is
// not (most services' own payloads) cannot be decoded: the message names
// it, with a protoPayload.@type field to filter on, so the entry is still
// listed and counted.
func protoEvent(a *anypb.Any) logs.Event {
	var e logs.Event
	m, err := a.UnmarshalNew()
	switch p := m.(type) {
	case *auditpb.AuditLog:
		e.Message = strings.TrimSpace(p.GetServiceName() + " " + p.GetMethodName() + " " + p.GetResourceName())
		if who := p.GetAuthenticationInfo().GetPrincipalEmail(); who != "" {
			e.Fields = append(e.Fields, logs.Field{Key: "principal", Value: who})
		}
		if st := p.GetStatus(); st != nil && st.GetCode() != 0 {
			e.Fields = append(e.Fields, logs.Field{Key: "status", Value: fmt.Sprintf("%d %s", st.GetCode(), st.GetMessage())})
		}
		return e
	case nil:
		if errors.Is(err, protoregistry.NotFound) {
			err = errors.New("this server does not know the type")
		}
	default:
		var b []byte
		if b, err = protojson.Marshal(m); err == nil {
			e.Message = logtext.Shorten(string(b), 500)
			return e
		}
	}
	e.Message = fmt.Sprintf("protoPayload %s (%d bytes) not decoded: %v", a.MessageName(), len(a.GetValue()), err)
	e.Fields = append(e.Fields, logs.Field{Key: "protoPayload.@type", Value: a.GetTypeUrl()})
	return e
}

func severityLevel(s ltype.LogSeverity) logs.Level {
	switch {
	case s >= ltype.LogSeverity_CRITICAL:
		return logs.LevelFatal
	case s >= ltype.LogSeverity_ERROR:
		return logs.LevelError
	case s >= ltype.LogSeverity_WARNING:
		return logs.LevelWarn
	case s >= ltype.LogSeverity_INFO:
		return logs.LevelInfo
	case s >= ltype.LogSeverity_DEBUG:
		return logs.LevelDebug
	}
	return 0 // none
}
