// Package layout holds no code: its test enforces the import rules of
// ../shared/ARCHITECTURE.md with go list -deps, so that a wrong import
// fails CI rather than a review.
package layout
