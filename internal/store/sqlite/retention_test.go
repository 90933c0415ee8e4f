package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestExpire(t *testing.T) {
	storetest.RunExpire(t, func(t *testing.T) storetest.ExpireStore {
		return open(t, filepath.Join(t.TempDir(), "voicehook.db"))
	})
}

func TestExpireMemory(t *testing.T) {
	storetest.RunExpire(t, func(t *testing.T) storetest.ExpireStore { return open(t, Memory) })
}
