package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
)

// TestRecordingsOutliveTheirCall: a recording is kept longer than its call
// or conference (30 days against 7), so the listings of an expired call's
// or conference's recordings still answer with them; with no recording
// left either, the call or conference is not found.
func TestRecordingsOutliveTheirCall(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	// Records of recordings whose call and conference the store no longer has.
	gone, goneConf := callback.NewCallID(), callback.NewConferenceID()
	for _, r := range []*engine.Recording{
		{RecordingID: callback.NewRecordingID(), AccountID: account, CallID: gone, StartTime: time.Now()},
		{RecordingID: callback.NewRecordingID(), AccountID: account, ConferenceID: goneConf, StartTime: time.Now()},
	} {
		if err := e.keeper.Save(ctx, r, time.Second, [][]audio.Segment{nil}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) *httptest.ResponseRecorder { return e.do("GET", path, "dev", "") }
	prefix := "/api/v2/accounts/" + account
	for _, path := range []string{prefix + "/calls/" + gone + "/recordings", prefix + "/conferences/" + goneConf + "/recordings"} {
		rec := get(path)
		var list []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != http.StatusOK || err != nil || len(list) != 1 {
			t.Errorf("GET %s: %d %s; want the one recording", path, rec.Code, rec.Body)
		}
	}
	notFound(t, "the recordings of a call never seen", get(prefix+"/calls/"+callback.NewCallID()+"/recordings"))
	notFound(t, "the recordings of a conference never seen", get(prefix+"/conferences/"+callback.NewConferenceID()+"/recordings"))
}
