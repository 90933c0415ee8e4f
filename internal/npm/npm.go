// Package npm installs the npm packages that the suites under test/ pin in
// their package-lock.json, for the tests that need them: the SDK-driven
// suite, the console's browser tests, and the conformance oracle (the
// OpenAPI document ships inside the bandwidth-sdk package).
//
// Several test binaries may ask for the same directory at once (go test
// runs packages in parallel). Install is safe for that: npm ci runs in a
// directory of its own and its node_modules is renamed into place, so a
// reader sees no node_modules or a complete one, never half of one.
package npm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Installed reports whether dir/node_modules holds module.
func Installed(dir, module string) bool {
	_, err := os.Stat(filepath.Join(dir, "node_modules", module, "package.json"))
	return err == nil
}

// Install makes sure dir/node_modules holds module, running npm ci with
// dir's package.json and package-lock.json when it does not. Its error
// says what is missing or what npm said.
func Install(dir, module string) error {
	if Installed(dir, module) {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("npm is not on PATH to install %s in %s", module, dir)
	}
	return install(dir, module, npmCI)
}

// npmCI runs npm ci in dir.
func npmCI(dir string) error {
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci failed: %v\n%s", err, out)
	}
	return nil
}

// install runs ci in a directory of its own holding dir's package files,
// then moves the node_modules it made into dir.
func install(dir, module string, ci func(dir string) error) error {
	work, err := os.MkdirTemp(dir, ".npm-ci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(work, f), b, 0o644); err != nil {
			return err
		}
	}
	if err := ci(work); err != nil {
		return fmt.Errorf("install %s in %s: %w", module, dir, err)
	}
	if err := os.Rename(filepath.Join(work, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		// Another test binary may have put its own there first.
		if Installed(dir, module) {
			return nil
		}
		return errors.Join(fmt.Errorf("install %s in %s", module, dir), err)
	}
	if !Installed(dir, module) {
		return fmt.Errorf("npm ci in %s did not install %s: is it in package.json?", dir, module)
	}
	return nil
}
