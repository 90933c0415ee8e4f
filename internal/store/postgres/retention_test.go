package postgres

import (
	"testing"

	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestExpire(t *testing.T) {
	storetest.RunExpire(t, func(t *testing.T) storetest.ExpireStore {
		return open(t, pgtest.NewDatabase(t))
	})
}
