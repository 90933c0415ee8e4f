package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestConferences(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vh.db")
	storetest.RunConferences(t,
		func(t *testing.T) engine.ConferenceStore { return open(t, path) },
		func(t *testing.T, s engine.ConferenceStore) engine.ConferenceStore {
			s.(*Store).Close()
			return open(t, path)
		})
}

func TestConferencesMemory(t *testing.T) {
	storetest.RunConferences(t, func(t *testing.T) engine.ConferenceStore { return open(t, Memory) }, nil)
}
