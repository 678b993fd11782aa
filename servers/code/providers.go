package code

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

// provider is one kind of code connection: what every provider declares,
// how to open it (without contacting anything), and which environment
// variables bring it in.
type provider struct {
	connections.Provider
	// open builds the source of the connection labelled name.
	open func(name string, v config.Values, l config.Limits) (source, error)
	// envKeys are the variables whose presence makes FromEnv add a
	// connection of this provider.
	envKeys []string
	// repoForm is how a host writes a repository (owner/name), for the
	// repo argument's help and errors.
	repoForm string
}

// conn is one open code connection: a local repository, or an account on
// a code host.
type conn = connections.Conn[*provider, source]

// providers are the code providers, in the order help and errors list them.
var providers = []*provider{localProvider, githubProvider, gitlabProvider, bitbucketProvider}

// registry opens the code connections of a configuration; a connection
// with a path and no provider is a local repository.
var registry = &connections.Registry[*provider, source]{
	Category:  Category,
	Noun:      "code",
	Providers: providers,
	Infer: func(c config.Connection) (*provider, error) {
		if c.Provider == "" && c.Settings["path"] != "" {
			return localProvider, nil
		}
		return nil, nil
	},
	LabelHint: "give each a label (--repo NAME=PATH, or name: in the config file)",
	Close:     func(s source) error { s.close(); return nil },
}

var labelRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+)=(.+)$`)

// ParseRepo turns a --repo argument, PATH or NAME=PATH, into a local
// repository connection. A path that does not exist is an error here, so a
// typo is reported at start rather than on the first call.
func ParseRepo(arg string) (config.Connection, error) {
	name, path := "", strings.TrimSpace(arg)
	if m := labelRE.FindStringSubmatch(path); m != nil {
		if _, err := os.Stat(path); err != nil { // a directory may contain '='
			name, path = m[1], m[2]
		}
	}
	if path == "" {
		return config.Connection{}, fmt.Errorf("--repo needs a path to a git repository (PATH or NAME=PATH)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return config.Connection{}, fmt.Errorf("--repo %s: %v", path, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return config.Connection{}, fmt.Errorf("--repo %s: no such directory", path)
	} else if !st.IsDir() {
		return config.Connection{}, fmt.Errorf("--repo %s: not a directory; pass the repository's top folder", path)
	}
	return config.Connection{Name: name, Category: Category, Provider: localProvider.Name, Settings: map[string]string{"path": abs}}, nil
}

// FromEnv returns a connection for each hosted provider whose credential is
// in the environment (GITHUB_TOKEN, GITLAB_TOKEN, BITBUCKET_TOKEN or
// BITBUCKET_APP_PASSWORD), skipping providers in except (already
// configured). Their other settings are read from the environment too.
func FromEnv(lookup func(string) (string, bool), except []config.Connection) []config.Connection {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	have := map[string]bool{}
	for _, c := range except {
		have[strings.ToLower(c.Provider)] = true
	}
	var out []config.Connection
	for _, p := range providers {
		if have[p.Name] {
			continue
		}
		for _, k := range p.envKeys {
			if v, ok := lookup(k); ok && v != "" {
				out = append(out, config.Connection{Category: Category, Provider: p.Name, Settings: map[string]string{}})
				break
			}
		}
	}
	return out
}

// source is what every provider offers. Local repositories and hosts
// answer the same questions; a provider that cannot answer one returns a
// *toolkit.Error saying so.
type source interface {
	listRepos(ctx context.Context, query string, limit int) ([]repoInfo, bool, error)
	listFiles(ctx context.Context, repo, ref, path string, recursive bool, limit int) (*listing, error)
	readFile(ctx context.Context, repo, ref, path string, lines lineRange) (*fileContent, error)
	search(ctx context.Context, repo string, q searchQuery) (*searchResult, error)
	commits(ctx context.Context, repo string, q commitQuery) ([]commitInfo, bool, error)
	commit(ctx context.Context, repo, sha, path string) (*commitInfo, []fileChange, error)
	compare(ctx context.Context, repo, base, head, path string) (*comparison, error)
	// restrictedTo is the one repository the source serves: a local
	// repository's name, or a host connection's restrict-to setting; ""
	// when every repository of the account is open to it.
	restrictedTo() string
	close()
}

// reviewSource is offered by hosts: pull or merge requests and CI runs.
type reviewSource interface {
	pulls(ctx context.Context, repo, state string, limit int) ([]pullRequest, bool, error)
	pipelines(ctx context.Context, repo, ref, status string, limit int) ([]pipeline, bool, error)
}

// blameSource is offered by local repositories.
type blameSource interface {
	blame(ctx context.Context, repo, ref, path string, lines lineRange) (*blameResult, error)
}

type repoInfo struct {
	Name          string
	Description   string
	DefaultBranch string
	Visibility    string
	Language      string
	Updated       time.Time
	Extra         string // provider-specific detail (a local repository's branches)
}

type entry struct {
	Path string
	Type string // file, dir, link, submodule
	Size int64  // -1 when unknown
}

type listing struct {
	Ref     string // what was listed, as resolved
	Entries []entry
	More    bool
}

// lineRange is a 1-based inclusive range; zero values mean the start or
// the end of the file.
type lineRange struct{ Start, End int }

type fileContent struct {
	Path string
	Ref  string
	Size int64
	// Data holds the file, or its start when the file is larger than
	// what was read (Partial).
	Data    []byte
	Partial bool
	// Link is a symbolic link's target.
	Link string
}

type searchQuery struct {
	Query      string
	Path       string
	Ref        string
	IgnoreCase bool
	Limit      int
}

type searchHit struct {
	Path string
	Line int // 0 when the host gives a fragment without a line number
	Text string
}

type searchResult struct {
	Ref   string
	Hits  []searchHit
	More  bool
	Total int // matches the host reports, when it does; -1 otherwise
	Note  string
}

type commitQuery struct {
	Ref     string
	Path    string
	Author  string
	Since   time.Time
	Until   time.Time
	Pickaxe string
	Limit   int
}

type commitInfo struct {
	SHA       string
	Author    string
	Email     string
	Date      time.Time
	Committer string
	Message   string
	Parents   []string
	Files     int // -1 when unknown
	Additions int
	Deletions int
	PathNote  string // with a path filter: a rename, or the file's older name
	URL       string
}

func (c commitInfo) subject() string {
	s, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return strings.TrimSpace(s)
}

type fileChange struct {
	Path      string
	OldPath   string // for renames and copies
	Status    string // added, modified, deleted, renamed, copied, type changed
	Additions int
	Deletions int
	Binary    bool
	Patch     string // unified diff hunks, possibly with the diff --git header
	// PatchMissing is set when the host sent no patch (too large).
	PatchMissing bool
}

type comparison struct {
	Base, Head string // as resolved
	MergeBase  string
	Ahead      int // commits in head not in base
	Behind     int // commits in base not in head; -1 when unknown
	Commits    []commitInfo
	Changes    []fileChange
	URL        string
}

type pullRequest struct {
	Number    int
	Title     string
	State     string
	Draft     bool
	Author    string
	Source    string
	Target    string
	Created   time.Time
	Updated   time.Time
	Comments  int // -1 when unknown
	Reviewers []string
	URL       string
}

type pipeline struct {
	ID       int64
	Name     string
	Status   string
	Ref      string
	SHA      string
	Source   string
	Created  time.Time
	Duration time.Duration // 0 when unknown or still running
	URL      string
}

type blameLine struct {
	Line int
	SHA  string
	Text string
}

type blameCommit struct {
	SHA     string
	Author  string
	Date    time.Time
	Summary string
}

type blameResult struct {
	Path    string
	Ref     string
	Total   int // lines in the file
	Lines   []blameLine
	Commits map[string]blameCommit
}

// ProviderNames are the provider names (and aliases) a config file may use
// for this category, so the agent host can tell a connection's category.
func ProviderNames() []string { return registry.ProviderNames() }
