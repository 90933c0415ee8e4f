// Package pgtest gives a test a PostgreSQL database of its own: the
// stores' tests and the server's run against a real server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultDSN is the local server of the tests: trust authentication, user
// postgres.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// adminDSN is the DSN of the database the tests create their own
// databases from: VOICEHOOK_TEST_POSTGRES, else defaultDSN.
func adminDSN() string {
	if dsn := os.Getenv("VOICEHOOK_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultDSN
}

// probe connects to the server of adminDSN once per run, so that a server
// that does not answer costs one timeout, not one per test.
var probe = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
})

// NewDatabase creates a database of its own for t, dropped when t ends,
// and returns its DSN. It skips t when no server answers, and fails it
// instead when CI=true.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if err := probe(); err != nil {
		msg := "no PostgreSQL server answers at VOICEHOOK_TEST_POSTGRES or " + defaultDSN +
			" (apt package postgresql; trust authentication for user postgres): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	admin := adminDSN()

	b := make([]byte, 8)
	rand.Read(b)
	name := "vh_test_" + hex.EncodeToString(b)
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("VOICEHOOK_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
