package errors

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func libFrames(n int, file string) []frame {
	out := make([]frame, n)
	for i := range out {
		out[i] = frame{File: file, Function: fmt.Sprintf("lib%d", i), Line: 10 + i}
	}
	return out
}

func render1(x exception, full bool) (string, stackCut) {
	var b strings.Builder
	var cut stackCut
	writeExceptions(&b, []exception{x}, full, &cut)
	return b.String(), cut
}

func TestStackWithoutInAppFramesShowsTheTop(t *testing.T) {
	x := exception{Type: "NullPointerException", Frames: libFrames(12, "/usr/lib/jvm/java-21/lib/rt.jar")}
	text, cut := render1(x, false)
	if strings.Count(text, " in lib") != 5 || !strings.Contains(text, "/usr/lib/jvm/java-21/lib/rt.jar:21 in lib11\n") {
		t.Errorf("want the 5 most recent frames when none is in-app:\n%s", text)
	}
	if !strings.Contains(text, "  … 7 library frames (usr/lib/jvm/java-21/lib 7)\n") || cut.library != 7 {
		t.Errorf("want the rest collapsed:\n%s", text)
	}
	if strings.Contains(text, "[library]") {
		t.Errorf("with no in-app frame, marking every frame as library is noise:\n%s", text)
	}
}

func TestDeepRecursionIsCapped(t *testing.T) {
	var frames []frame
	for i := range 45 {
		frames = append(frames, frame{File: "app/tree.py", Function: "walk", Line: 100 + i, InApp: true})
	}
	text, cut := render1(exception{Type: "RecursionError", Value: "maximum recursion depth exceeded", Frames: frames}, false)
	if n := strings.Count(text, "app/tree.py:"); n != maxInAppFrames || cut.inApp != 15 {
		t.Errorf("want %d frames shown and 15 cut, got %d and %d", maxInAppFrames, n, cut.inApp)
	}
	full, _ := render1(exception{Frames: frames}, true)
	if n := strings.Count(full, "app/tree.py:"); n != 45 {
		t.Errorf("full=true shows every frame, got %d", n)
	}
}

func TestRaisingLibraryFrameIsShown(t *testing.T) {
	frames := append([]frame{{File: "app/client.py", Function: "fetch", Line: 12, InApp: true,
		Context: []sourceLine{{11, "def fetch(url):"}, {12, "    return requests.get(url, timeout=1)"}, {13, ""}}}},
		libFrames(3, "/venv/lib/python3.12/site-packages/requests/sessions.py")...)
	frames[len(frames)-1].Context = []sourceLine{{12, "        raise ConnectTimeout(e, request=request)"}}
	text, cut := render1(exception{Type: "ConnectTimeout", Module: "requests.exceptions", Value: "timed out", Frames: frames}, false)
	want := "requests.exceptions.ConnectTimeout: timed out\n" +
		"  /venv/lib/python3.12/site-packages/requests/sessions.py:12 in lib2 [library]\n" +
		"    > 12 |         raise ConnectTimeout(e, request=request)\n" +
		"  … 2 library frames (requests 2)\n" +
		"  app/client.py:12 in fetch\n" +
		"      11 | def fetch(url):\n" +
		"    > 12 |     return requests.get(url, timeout=1)\n" +
		"      13 |\n"
	if text != want {
		t.Errorf("got:\n%s\nwant:\n%s", text, want)
	}
	if cut.library != 2 {
		t.Errorf("cut: %+v", cut)
	}
}

func TestPackageOf(t *testing.T) {
	cases := map[string]frame{
		"@sentry/browser":            {File: "webpack:///./node_modules/@sentry/browser/esm/helpers.js"},
		"react-dom":                  {File: "/app/node_modules/.pnpm/react-dom@18.3.1/node_modules/react-dom/cjs/x.js"},
		"django":                     {File: "/usr/lib/python3/site-packages/django/core/handlers/base.py"},
		"github.com/jackc/pgx":       {File: "/root/go/pkg/mod/github.com/jackc/pgx/v5@v5.7.1/conn.go"},
		"libsystem_kernel.dylib":     {Package: "/usr/lib/system/libsystem_kernel.dylib"},
		"java":                       {Module: "java.util.concurrent.ThreadPoolExecutor"},
		"activesupport-7.1.3":        {File: "/usr/local/bundle/gems/activesupport-7.1.3/lib/x.rb"},
		"unknown":                    {},
		"System.Private.CoreLib.dll": {Package: `C:\Windows\System.Private.CoreLib.dll`},
	}
	for want, f := range cases {
		if got := packageOf(f); got != want {
			t.Errorf("packageOf(%+v) = %q, want %q", f, got, want)
		}
	}
}

func TestThreadStackIsUsedWhenTheExceptionHasNone(t *testing.T) {
	raw := `{"eventID":"e1","entries":[
		{"type":"exception","data":{"values":[{"type":"SIGSEGV","value":"Segfault","stacktrace":null,"mechanism":{"type":"signalhandler","handled":false}}]}},
		{"type":"threads","data":{"values":[
			{"id":1,"crashed":false,"current":false,"stacktrace":{"frames":[{"function":"idle","package":"/usr/lib/libc.so.6","inApp":false}]}},
			{"id":2,"crashed":true,"current":true,"stacktrace":{"frames":[{"function":"main","filename":"src/main.c","lineNo":10,"inApp":true},{"function":"crash","filename":"src/crash.c","lineNo":42,"inApp":true}],"framesOmitted":[1,4]}}
		]}}]}`
	var e sentryEvent
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatal(err)
	}
	ev := e.model(false)
	if len(ev.Exceptions) != 1 || len(ev.Exceptions[0].Frames) != 2 || ev.Exceptions[0].Frames[1].Function != "crash" || ev.Exceptions[0].FramesOmitted != 3 {
		t.Fatalf("want the crashed thread's stack on the exception: %+v", ev.Exceptions)
	}
	view := renderEvent(&issue{Title: "SIGSEGV"}, ev, false, false)
	if !strings.Contains(view.body, "SIGSEGV: Segfault [unhandled, mechanism signalhandler]\n  src/crash.c:42 in crash\n  src/main.c:10 in main\n") ||
		!strings.Contains(strings.Join(view.trimmed, ";"), "3 frames the SDK itself omitted") {
		t.Errorf("got:\n%s\n%v", view.body, view.trimmed)
	}

	msg := `{"eventID":"e2","message":"","entries":[
		{"type":"message","data":{"formatted":"Payment provider returned 502","message":"Payment provider returned %s","params":["502"]}},
		{"type":"stacktrace","data":{"frames":[{"function":"charge","filename":"billing/tasks.py","lineNo":77,"inApp":true}]}}]}`
	var m sentryEvent
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		t.Fatal(err)
	}
	mv := m.model(false)
	if mv.Message != "Payment provider returned 502" || len(mv.Exceptions) != 1 || mv.Exceptions[0].Frames[0].Function != "charge" {
		t.Errorf("a message event keeps its message and attached stack: %+v", mv)
	}
}

func TestSentryTypesAcceptLooseJSON(t *testing.T) {
	var g sentryIssue
	raw := `{"id":12,"shortId":"A-1","title":{"unexpected":"object"},"count":1523,"userCount":"7","firstSeen":"2026-11-25T20:58:11","lastSeen":null,"project":{"id":4,"slug":"api"}}`
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatal(err)
	}
	is := g.model()
	if is.ID != "12" || is.Events != 1523 || is.Users != 7 || is.Title != `{"unexpected":"object"}` || is.FirstSeen.IsZero() || !is.LastSeen.IsZero() {
		t.Errorf("got %+v", is)
	}
	var b sentryBreadcrumb
	if err := json.Unmarshal([]byte(`{"timestamp":1764104587.5,"category":"ui.click","data":{"n":3,"ok":true}}`), &b); err != nil {
		t.Fatal(err)
	}
	if got := b.model(false); got.Time.Unix() != 1764104587 || len(got.Data) != 2 || got.Data[0].Value != "3" {
		t.Errorf("got %+v", got)
	}
}
