package postgres

import (
	"testing"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestConferences(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	storetest.RunConferences(t,
		func(t *testing.T) engine.ConferenceStore { return open(t, dsn) },
		func(t *testing.T, s engine.ConferenceStore) engine.ConferenceStore {
			s.(*Store).Close()
			return open(t, dsn)
		})
}
