package cloudlogs

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	auditpb "google.golang.org/genproto/googleapis/cloud/audit"
	ltype "google.golang.org/genproto/googleapis/logging/type"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

const gcpProject = "shop-prod-123"

// loggingFake implements the LoggingServiceV2 gRPC service the logadmin
// client calls (ListLogEntries, ListLogs), in process on a loopback port.
// It evaluates the part of the Logging query language the server sends:
// clauses joined by AND — timestamp>= and <, severity>=, logName=, a
// quoted global search term, and resource.type= / jsonPayload.x= in
// parentheses — and answers anything else with INVALID_ARGUMENT, as Cloud
// Logging does for a filter it cannot parse. Pages are 50 entries.
type loggingFake struct {
	loggingpb.UnimplementedLoggingServiceV2Server
	addr    string
	entries []*loggingpb.LogEntry // newest first
	mu      sync.Mutex
	filters []string
	apiHdr  []string
	denied  codes.Code
}

func newLoggingFake(t *testing.T) *loggingFake {
	f := &loggingFake{}
	logName := func(id string) string { return "projects/" + gcpProject + "/logs/" + id }
	run := &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{"service_name": "checkout", "revision_name": "checkout-00042-abc"}}
	var asc []*loggingpb.LogEntry
	for ts := logstest.IncidentFrom.Add(-30 * time.Minute); ts.Before(logstest.IncidentTo); ts = ts.Add(10 * time.Second) {
		i := int(ts.Sub(logstest.Start) / time.Second)
		e := &loggingpb.LogEntry{LogName: logName("run.googleapis.com%2Fstdout"), Resource: run, Timestamp: timestamppb.New(ts), InsertId: strconv.Itoa(i), Labels: map[string]string{"instanceId": fmt.Sprintf("00f%d", i%2)}}
		if !ts.Before(logstest.IncidentFrom) {
			e.Severity = ltype.LogSeverity_ERROR
			st, _ := structpb.NewStruct(map[string]any{"message": fmt.Sprintf("payment failed for order %d: timeout after 30s talking to 10.0.0.%d:5432", i, i%250), "order": i})
			e.Payload = &loggingpb.LogEntry_JsonPayload{JsonPayload: st}
		} else {
			e.Severity = ltype.LogSeverity_INFO
			e.Payload = &loggingpb.LogEntry_TextPayload{TextPayload: fmt.Sprintf("GET /orders/%d 200", i)}
			e.HttpRequest = &ltype.HttpRequest{RequestMethod: "GET", RequestUrl: fmt.Sprintf("https://shop.example/orders/%d", i), Status: 200}
		}
		asc = append(asc, e)
	}
	audit, _ := anypb.New(&auditpb.AuditLog{ServiceName: "run.googleapis.com", MethodName: "google.cloud.run.v1.Services.ReplaceService", ResourceName: "namespaces/shop-prod-123/services/checkout", AuthenticationInfo: &auditpb.AuthenticationInfo{PrincipalEmail: "deployer@shop-prod-123.iam.gserviceaccount.com"}})
	asc = append(asc, &loggingpb.LogEntry{LogName: logName("cloudaudit.googleapis.com%2Factivity"), Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision"}, Timestamp: timestamppb.New(logstest.IncidentFrom.Add(-time.Second)), Severity: ltype.LogSeverity_NOTICE, Payload: &loggingpb.LogEntry_ProtoPayload{ProtoPayload: audit}})
	// One recent entry from another service, for the resource types that
	// list_log_sources reads from the last 24 hours.
	asc = append(asc, &loggingpb.LogEntry{LogName: logName("cloudfunctions.googleapis.com%2Fcloud-functions"), Resource: &monitoredres.MonitoredResource{Type: "cloud_function"}, Timestamp: timestamppb.New(time.Now().Add(-time.Hour)), Severity: ltype.LogSeverity_INFO, Payload: &loggingpb.LogEntry_TextPayload{TextPayload: "Function execution started"}})
	for i := len(asc) - 1; i >= 0; i-- {
		f.entries = append(f.entries, asc[i])
	}
	sortEntriesNewestFirst(f.entries)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	logstest.Must(t, err)
	s := grpc.NewServer()
	loggingpb.RegisterLoggingServiceV2Server(s, f)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	f.addr = lis.Addr().String()
	return f
}

func sortEntriesNewestFirst(es []*loggingpb.LogEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Timestamp.AsTime().After(es[j-1].Timestamp.AsTime()); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

var (
	clauseTime     = regexp.MustCompile(`^timestamp(>=|<)"([^"]+)"$`)
	clauseSeverity = regexp.MustCompile(`^severity>=([A-Z]+)$`)
	clauseLogName  = regexp.MustCompile(`^logName="([^"]+)"$`)
	clauseText     = regexp.MustCompile(`^"((?:[^"\\]|\\.)*)"$`)
	clauseField    = regexp.MustCompile(`^\((resource\.type|jsonPayload\.\w+)="([^"]*)"\)$`)
)

func (f *loggingFake) check(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apiHdr = append(f.apiHdr, strings.Join(md.Get("x-goog-api-client"), " "))
	if f.denied != codes.OK {
		return status.Error(f.denied, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
	}
	return nil
}

func (f *loggingFake) ListLogEntries(ctx context.Context, req *loggingpb.ListLogEntriesRequest) (*loggingpb.ListLogEntriesResponse, error) {
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	if len(req.ResourceNames) != 1 || req.ResourceNames[0] != "projects/"+gcpProject {
		return nil, status.Errorf(codes.PermissionDenied, "The caller does not have permission on %v", req.ResourceNames)
	}
	if req.OrderBy != "timestamp desc" {
		return nil, status.Errorf(codes.InvalidArgument, "this fake serves newest first only, got order_by %q", req.OrderBy)
	}
	f.mu.Lock()
	f.filters = append(f.filters, req.Filter)
	f.mu.Unlock()
	var keep []func(*loggingpb.LogEntry) bool
	for _, cl := range strings.Split(req.Filter, " AND ") {
		switch {
		case clauseTime.MatchString(cl):
			m := clauseTime.FindStringSubmatch(cl)
			t, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "Invalid timestamp %q", m[2])
			}
			if m[1] == ">=" {
				keep = append(keep, func(e *loggingpb.LogEntry) bool { return !e.Timestamp.AsTime().Before(t) })
			} else {
				keep = append(keep, func(e *loggingpb.LogEntry) bool { return e.Timestamp.AsTime().Before(t) })
			}
		case clauseSeverity.MatchString(cl):
			sev := ltype.LogSeverity(ltype.LogSeverity_value[clauseSeverity.FindStringSubmatch(cl)[1]])
			keep = append(keep, func(e *loggingpb.LogEntry) bool { return e.Severity >= sev })
		case clauseLogName.MatchString(cl):
			name := clauseLogName.FindStringSubmatch(cl)[1]
			keep = append(keep, func(e *loggingpb.LogEntry) bool { return e.LogName == name })
		case clauseText.MatchString(cl):
			term, _ := strconv.Unquote(cl)
			keep = append(keep, func(e *loggingpb.LogEntry) bool {
				return strings.Contains(strings.ToLower(e.String()), strings.ToLower(term))
			})
		case clauseField.MatchString(cl):
			m := clauseField.FindStringSubmatch(cl)
			keep = append(keep, func(e *loggingpb.LogEntry) bool {
				if m[1] == "resource.type" {
					return e.GetResource().GetType() == m[2]
				}
				v := e.GetJsonPayload().GetFields()[strings.TrimPrefix(m[1], "jsonPayload.")]
				return v != nil && fmt.Sprint(v.AsInterface()) == m[2]
			})
		default:
			return nil, status.Errorf(codes.InvalidArgument, "Unparseable filter: syntax error at line 1, column %d, token '%s'", strings.Index(req.Filter, cl)+1, cl)
		}
	}
	start, _ := strconv.Atoi(req.PageToken)
	size := int(req.PageSize)
	if size <= 0 || size > 50 {
		size = 50
	}
	var out []*loggingpb.LogEntry
	next := ""
	for i, n := 0, 0; i < len(f.entries); i++ {
		e := f.entries[i]
		ok := true
		for _, k := range keep {
			ok = ok && k(e)
		}
		if !ok {
			continue
		}
		if n >= start && len(out) < size {
			out = append(out, e)
		} else if len(out) == size {
			next = strconv.Itoa(n)
			break
		}
		n++
	}
	return &loggingpb.ListLogEntriesResponse{Entries: out, NextPageToken: next}, nil
}

func (f *loggingFake) ListLogs(ctx context.Context, req *loggingpb.ListLogsRequest) (*loggingpb.ListLogsResponse, error) {
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	if req.Parent != "projects/"+gcpProject {
		return nil, status.Errorf(codes.NotFound, "Project %s not found", req.Parent)
	}
	return &loggingpb.ListLogsResponse{LogNames: []string{
		"projects/" + gcpProject + "/logs/cloudaudit.googleapis.com%2Factivity",
		"projects/" + gcpProject + "/logs/run.googleapis.com%2Fstdout",
		"projects/" + gcpProject + "/logs/run.googleapis.com%2Frequests",
	}}, nil
}

func TestGoogleCloudLogging(t *testing.T) {
	t.Parallel()
	fake := newLoggingFake(t)
	conn := config.Connection{Name: "gcp", Category: logs.Category, Provider: "gcloud", Settings: map[string]string{"project_id": gcpProject, "endpoint": fake.addr}}
	cs := serveConns(t, []config.Connection{conn}, nil)
	window := map[string]any{"since": "2026-03-01T10:00:00Z", "until": "2026-03-01T12:00:00Z"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range window {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}

	out := mcptest.MustText(t, cs, "search_logs", with(map[string]any{"level": "error", "limit": 2}))
	logstest.ContainsAll(t, "errors", out, "more than 2 lines matched", "11:09:50.000 ERROR payment failed for order", "order=", "every line has: resource.type=cloud_run_revision resource.labels.revision_name=checkout-00042-abc")
	fake.mu.Lock()
	sent := fake.filters[len(fake.filters)-1]
	hdr := fake.apiHdr[len(fake.apiHdr)-1]
	fake.mu.Unlock()
	if want := `timestamp>="2026-03-01T10:00:00Z" AND timestamp<"2026-03-01T12:00:00Z" AND severity>=ERROR`; sent != want {
		t.Errorf("filter sent:\n%s\nwant:\n%s", sent, want)
	}
	if !strings.Contains(hdr, "gccl/") {
		t.Errorf("requests should come from the real client library (x-goog-api-client), got %q", hdr)
	}

	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"text": "ReplaceService"}))
	logstest.ContainsAll(t, "audit log", out, "1 lines matched", "run.googleapis.com google.cloud.run.v1.Services.ReplaceService", "principal=deployer@")

	out = mcptest.MustText(t, cs, "error_signatures", window)
	logstest.ContainsAll(t, "signatures over pages", out, "60,error,2026-03-01T11:00:00Z,2026-03-01T11:09:50Z,run.googleapis.com/stdout,payment failed for order <n>: timeout after <n>s talking to <ip>")

	out = mcptest.MustText(t, cs, "count_logs", with(map[string]any{"bucket": "10m", "group_by": "level", "filter": `resource.type="cloud_run_revision"`}))
	logstest.ContainsAll(t, "counts with a native filter", out, "bucket,count,", "bucket,count,info,error", "2026-03-01T11:00Z,60,0,60")

	out = mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "sources", out, "run.googleapis.com/stdout,log", "cloud_function,resource type,1")

	msg := mcptest.MustError(t, cs, "search_logs", with(map[string]any{"filter": "severity>>ERROR"}))
	logstest.ContainsAll(t, "bad filter", msg, "Cloud Logging refused the query", "Unparseable filter")

	msg = mcptest.MustError(t, cs, "search_logs", with(map[string]any{"source": "run.googleapis.com/stdot"}))
	logstest.ContainsAll(t, "unknown log", msg, `no log "run.googleapis.com/stdot"`, "did you mean run.googleapis.com/stdout")

	fake.mu.Lock()
	fake.denied = codes.Unauthenticated
	fake.mu.Unlock()
	msg = mcptest.MustError(t, cs, "search_logs", window)
	logstest.ContainsAll(t, "expired credentials", msg, "rejected the credentials (UNAUTHENTICATED)", "create a new JSON key")
}

func TestGoogleCloudCredentialsChecked(t *testing.T) {
	t.Parallel()
	const canary = "-----BEGIN PRIVATE KEY-----\ngcp-canary-91c2\n-----END PRIVATE KEY-----\n"
	for _, c := range []struct{ json, want string }{
		{`{"type":"authorized_user","client_id":"x"}`, "not a service account key"},
		{`not json ` + canary, "is not JSON"},
	} {
		conn := config.Connection{Category: logs.Category, Provider: "gcloud", Settings: map[string]string{"project_id": gcpProject, "credentials_json": c.json}}
		_, err := logs.New(t.Context(), logs.Config{Connections: []config.Connection{conn}, Lookup: func(string) (string, bool) { return "", false }})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "gcp-canary") {
			t.Errorf("credentials %.20q: got %v, want an error saying %q without the key", c.json, err, c.want)
		}
	}
	conn := config.Connection{Category: logs.Category, Provider: "gcloud", Settings: map[string]string{"project_id": gcpProject}}
	_, err := logs.New(t.Context(), logs.Config{Connections: []config.Connection{conn}, Lookup: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "credentials_json") {
		t.Errorf("missing credentials: %v", err)
	}
}

// TestGoogleCloudUnknownPayloadType adds entries that the client library's
// own conversion refuses — a protoPayload whose type is not linked into
// this program (App Engine's request log, a service's own message) and an
// HTTP request whose URL does not parse — and checks that the tools read
// them instead of failing, naming the payload type.
func TestGoogleCloudUnknownPayloadType(t *testing.T) {
	t.Parallel()
	fake := newLoggingFake(t)
	logName := func(id string) string { return "projects/" + gcpProject + "/logs/" + id }
	gae := &monitoredres.MonitoredResource{Type: "gae_app", Labels: map[string]string{"module_id": "default"}}
	// A linked type (Any) whose content is not: decoded, but not printable.
	wrapped, err := anypb.New(&anypb.Any{TypeUrl: "type.googleapis.com/shop.checkout.v1.Refund", Value: []byte{0x08, 0x01}})
	logstest.Must(t, err)
	fake.entries = append(fake.entries,
		&loggingpb.LogEntry{
			LogName: logName("appengine.googleapis.com%2Frequest_log"), Resource: gae, Timestamp: timestamppb.New(logstest.IncidentFrom.Add(5 * time.Second)),
			Severity: ltype.LogSeverity_ERROR, InsertId: "gae-1", Trace: "projects/" + gcpProject + "/traces/0af7651916cd43dd8448eb211c80319c",
			Payload: &loggingpb.LogEntry_ProtoPayload{ProtoPayload: &anypb.Any{TypeUrl: "type.googleapis.com/google.appengine.logging.v1.RequestLog", Value: []byte{0x0a, 0x0c, 's', 'h', 'o', 'p', '-', 'p', 'r', 'o', 'd', '-', '1', '2'}}},
		},
		&loggingpb.LogEntry{
			LogName: logName("run.googleapis.com%2Frequests"), Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision"}, Timestamp: timestamppb.New(logstest.IncidentFrom.Add(15 * time.Second)),
			Severity: ltype.LogSeverity_WARNING, InsertId: "req-1", Labels: map[string]string{"instanceId": "00f1"},
			HttpRequest: &ltype.HttpRequest{RequestMethod: "GET", RequestUrl: "https://shop.example/files/100%", Status: 404},
			Payload:     &loggingpb.LogEntry_ProtoPayload{ProtoPayload: &anypb.Any{TypeUrl: "type.googleapis.com/shop.checkout.v1.PaymentAttempt", Value: []byte{0x08, 0x2a}}},
		},
		&loggingpb.LogEntry{
			LogName: logName("run.googleapis.com%2Fstdout"), Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision"}, Timestamp: timestamppb.New(logstest.IncidentFrom.Add(25 * time.Second)),
			Severity: ltype.LogSeverity_INFO, Payload: &loggingpb.LogEntry_ProtoPayload{ProtoPayload: wrapped},
		},
		&loggingpb.LogEntry{
			LogName: logName("appengine.googleapis.com%2Frequest_log"), Resource: gae, Timestamp: timestamppb.New(time.Now().Add(-2 * time.Hour)),
			Severity: ltype.LogSeverity_INFO, Payload: &loggingpb.LogEntry_ProtoPayload{ProtoPayload: &anypb.Any{TypeUrl: "type.googleapis.com/google.appengine.logging.v1.RequestLog"}},
		})
	sortEntriesNewestFirst(fake.entries)
	conn := config.Connection{Name: "gcp", Category: logs.Category, Provider: "gcloud", Settings: map[string]string{"project_id": gcpProject, "endpoint": fake.addr}}
	cs := serveConns(t, []config.Connection{conn}, nil)
	window := map[string]any{"since": "2026-03-01T11:00:00Z", "until": "2026-03-01T11:01:00Z"}

	out := mcptest.MustText(t, cs, "search_logs", window)
	logstest.ContainsAll(t, "unknown payload types", out,
		"9 lines matched",
		"11:00:05.000 ERROR", "google.appengine.logging.v1.RequestLog", "resource.type=gae_app", "resource.labels.module_id=default", "trace=projects/"+gcpProject+"/traces/0af7651916cd43dd8448eb211c80319c",
		"11:00:15.000 WARN", "shop.checkout.v1.PaymentAttempt", "httpRequest.url=https://shop.example/files/100%", "httpRequest.status=404",
		"11:00:25.000 INFO", "protoPayload google.protobuf.Any", "shop.checkout.v1.Refund",
		"payment failed for order")

	out = mcptest.MustText(t, cs, "count_logs", map[string]any{"since": "2026-03-01T11:00:00Z", "until": "2026-03-01T11:10:00Z", "bucket": "10m", "group_by": "level"})
	logstest.ContainsAll(t, "counts", out, "2026-03-01T11:00Z,63,")

	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"since": "2026-03-01T11:00:00Z", "until": "2026-03-01T11:01:00Z", "source": "appengine.googleapis.com/request_log"})
	logstest.ContainsAll(t, "by log name", out, "1 lines matched", "google.appengine.logging.v1.RequestLog")

	out = mcptest.MustText(t, cs, "error_signatures", window)
	logstest.ContainsAll(t, "signatures", out, "1,error,2026-03-01T11:00:05Z,2026-03-01T11:00:05Z,appengine.googleapis.com/request_log,protoPayload google.appengine.logging.v<n>.RequestLog")

	out = mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "sources", out, "gae_app,resource type,1")
}
