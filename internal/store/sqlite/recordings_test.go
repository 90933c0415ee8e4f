package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestRecordings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vh.db")
	storetest.RunRecordings(t,
		func(t *testing.T) recordings.Records { return open(t, path) },
		func(t *testing.T, s recordings.Records) recordings.Records {
			s.(*Store).Close()
			return open(t, path)
		})
}
