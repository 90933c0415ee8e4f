package sqlite

import (
	"testing"

	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestProcessingRecordings(t *testing.T) {
	storetest.RunProcessing(t, open(t, ":memory:"))
}
