package bxml

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem in a BXML document: what was wrong, and where.
type Error struct {
	// Line and Column locate the element at fault, counting from 1; both
	// are 0 for a document built in Go.
	Line, Column int
	// Verb is the element at fault ("Gather"); empty for the document.
	Verb string
	// Attr is the attribute at fault; empty when the problem is not in one.
	Attr string
	// Msg says what was wrong.
	Msg string
	// Err is the sentinel the problem matches (ErrTooLarge, ErrDTD, …), or nil.
	Err error
}

// Unwrap returns the sentinel the problem matches, if any.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Verb != "" {
		b.WriteString("<" + e.Verb)
		if e.Attr != "" {
			b.WriteString(" " + e.Attr)
		}
		b.WriteString(">: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a document, in document order.
// Parse and Validate return one when they find any; errors.As finds its
// first *Error.
type ErrorList []*Error

// maxListed is how many problems ErrorList's message spells out.
const maxListed = 3

func (l ErrorList) Error() string {
	var b strings.Builder
	b.WriteString("invalid BXML: ")
	for i, e := range l {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(l)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As and errors.Is see the problems.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Sentinel problems, for errors.Is on what Parse returns.
var (
	// ErrTooLarge: the document is larger than MaxSize.
	ErrTooLarge = errors.New("document too large")
	// ErrDTD: the document declares a DTD or entities.
	ErrDTD = errors.New("DTD and entity declarations are not allowed")
	// ErrLimit: the document has too many elements or nests them too deep.
	ErrLimit = errors.New("document exceeds a limit")
	// ErrSyntax: the document is not well-formed XML, or not UTF-8.
	ErrSyntax = errors.New("malformed XML")
)
