package postgres

import (
	"testing"

	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestProcessingRecordings(t *testing.T) {
	storetest.RunProcessing(t, open(t, pgtest.NewDatabase(t)))
}
