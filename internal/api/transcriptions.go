package api

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/voicehook/voicehook/internal/engine"
)

// The real-time transcriptions of a call (<StartTranscription>), once
// they have ended: GET …/calls/{callId}/transcriptions lists them, GET and
// DELETE …/transcriptions/{transcriptionId} read and remove one.

// liveTranscriptionMetadata is schema callTranscriptionMetadata.
type liveTranscriptionMetadata struct {
	TranscriptionID   string `json:"transcriptionId"`
	TranscriptionName string `json:"transcriptionName"`
	TranscriptionURL  string `json:"transcriptionUrl"`
}

// liveTranscriptionResponse is schema callTranscriptionResponse.
type liveTranscriptionResponse struct {
	AccountID       string               `json:"accountId"`
	CallID          string               `json:"callId"`
	TranscriptionID string               `json:"transcriptionId"`
	Tracks          []trackTranscription `json:"tracks"`
}

// trackTranscription is schema callTranscription: what was said on one
// track.
type trackTranscription struct {
	DetectedLanguage string  `json:"detectedLanguage"`
	Track            string  `json:"track"`
	Transcript       string  `json:"transcript"`
	Confidence       float64 `json:"confidence"`
}

// detectedLanguage is the language of every transcript: voicehook
// recognizes English only (a simulated phone's words are taken as said,
// and the Transcriber listens for en-US).
const detectedLanguage = "en-US"

func (h *Handler) listLiveTranscriptions(w http.ResponseWriter, r *http.Request) error {
	accountID, callID := account(r).ID, r.PathValue("callId")
	list, err := h.cfg.Engine.ListLiveTranscriptions(r.Context(), accountID, callID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mapAll(list, func(t *engine.LiveTranscription) liveTranscriptionMetadata {
		return liveTranscriptionMetadata{TranscriptionID: t.ID, TranscriptionName: t.Name,
			TranscriptionURL: h.callURL(accountID, callID) + "/transcriptions/" + t.ID}
	}))
	return nil
}

func (h *Handler) getLiveTranscription(w http.ResponseWriter, r *http.Request) error {
	t, err := h.cfg.Engine.GetLiveTranscription(r.Context(), account(r).ID, r.PathValue("callId"), r.PathValue("transcriptionId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, liveTranscriptionResponse{AccountID: t.AccountID, CallID: t.CallID, TranscriptionID: t.ID, Tracks: trackTranscriptions(t)})
	return nil
}

// deleteLiveTranscription answers 200 with no body, as Bandwidth does
// (not the 204 of the other DELETEs).
func (h *Handler) deleteLiveTranscription(w http.ResponseWriter, r *http.Request) error {
	if err := h.cfg.Engine.DeleteLiveTranscription(r.Context(), account(r).ID, r.PathValue("callId"), r.PathValue("transcriptionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// trackTranscriptions sums a transcription up track by track, inbound
// first: the track's utterances in the order they began, joined by a
// space, and their mean confidence weighted by their words, so that a
// long utterance counts for more than a one-word one, rounded to three
// decimals. Utterances that could not be recognized (Err) are left out,
// and so is a track with no utterance recognized.
func trackTranscriptions(t *engine.LiveTranscription) []trackTranscription {
	out := []trackTranscription{}
	for _, track := range []string{engine.TrackInbound, engine.TrackOutbound} {
		var said []engine.Transcript
		for _, x := range t.Transcripts {
			if x.Track == track && x.Err == "" && strings.TrimSpace(x.Text) != "" {
				said = append(said, x)
			}
		}
		if len(said) == 0 {
			continue
		}
		slices.SortStableFunc(said, func(a, b engine.Transcript) int { return cmp.Compare(a.Start, b.Start) })
		texts := make([]string, len(said))
		var sum, words float64
		for i, x := range said {
			texts[i] = strings.TrimSpace(x.Text)
			n := float64(len(x.Words))
			if n == 0 { // a recognizer that gave no words: count the text's
				n = float64(len(strings.Fields(x.Text)))
			}
			sum += n * x.Confidence
			words += n
		}
		confidence := math.Round(sum/words*1000) / 1000
		out = append(out, trackTranscription{DetectedLanguage: detectedLanguage, Track: track,
			Transcript: strings.Join(texts, " "), Confidence: min(max(confidence, 0), 1)})
	}
	return out
}
