package npm

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestInstallAtOnce: several installs of one directory at the same time
// all succeed, and leave one complete node_modules and no work directory.
func TestInstallAtOnce(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// ci stands for npm ci: it installs "mod" with a few files.
	ci := func(work string) error {
		if _, err := os.Stat(filepath.Join(work, "package-lock.json")); err != nil {
			return err
		}
		pkg := filepath.Join(work, "node_modules", "mod")
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			return err
		}
		for _, f := range []string{"index.js", "package.json"} {
			if err := os.WriteFile(filepath.Join(pkg, f), []byte("x"), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = install(dir, "mod", ci) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("install %d: %v", i, err)
		}
	}
	if !Installed(dir, "mod") {
		t.Fatal("mod is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "mod", "index.js")); err != nil {
		t.Errorf("node_modules is incomplete: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %q, want the two package files and node_modules", names)
	}
}

func TestInstallSaysWhatFailed(t *testing.T) {
	dir := t.TempDir()
	if err := install(dir, "mod", func(string) error { return nil }); err == nil {
		t.Error("install without package.json succeeded")
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644)
	}
	if err := install(dir, "mod", func(string) error { return os.MkdirAll(filepath.Join(dir, "x"), 0o755) }); err == nil {
		t.Error("an install that did not make node_modules succeeded")
	}
}
