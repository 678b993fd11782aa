// Package demo builds the demo workspace: a small, realistic company with
// an incident in it, made of the same kinds of sources users point OpsTower
// at — a SQLite shop database with an analytics events table, a JSON-lines
// application log, and a git repository whose history holds the change
// that caused the incident. Nothing here is a special code path: the demo
// is served by the ordinary providers.
//
// The story: a deploy switched the payment client to a new API and started
// sending currency codes in lower case. From that moment, payments in EUR
// fail, EUR orders stop being paid, checkout completions drop, and the log
// fills with "invalid currency" errors.
package demo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// Workspace lists what Build created.
type Workspace struct {
	Dir      string
	Database string    // SQLite file: the shop and its analytics events
	Log      string    // JSON-lines application log
	Repo     string    // git repository of the shop's backend ("" without git)
	Culprit  string    // short hash of the commit that caused the incident
	Incident time.Time // when the bad deploy went out
	Notes    []string  // what could not be built, and why
}

// Build writes a fresh workspace into dir (created if needed; existing demo
// files are replaced). Times are relative to now, so "the last 24 hours"
// always contains the incident.
func Build(dir string, now time.Time) (*Workspace, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the demo folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Minute)
	w := &Workspace{
		Dir:      abs,
		Database: filepath.Join(abs, "shop.db"),
		Log:      filepath.Join(abs, "logs", "app.jsonl"),
		Repo:     filepath.Join(abs, "shop-backend"),
		Incident: now.Add(-9*time.Hour - 17*time.Minute),
	}
	// One seeded generator: the same now gives the same workspace.
	rng := rand.New(rand.NewPCG(2026, 314))
	if err := writeShop(w, now, rng); err != nil {
		return nil, fmt.Errorf("writing the shop database: %w", err)
	}
	if err := writeRepo(w); err != nil {
		if !errors.Is(err, errNoGit) {
			return nil, fmt.Errorf("writing the git repository: %w", err)
		}
		w.Repo = ""
		w.Notes = append(w.Notes, err.Error())
	}
	if err := writeLog(w, now, rng); err != nil {
		return nil, fmt.Errorf("writing the application log: %w", err)
	}
	return w, nil
}
