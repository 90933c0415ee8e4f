package console

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/redact"
)

// replayRequest is the body of POST /console/api/calls/{callId}/replay:
// the webhook entry to send again (of the call or one of its legs), and
// where to (default: where it went).
type replayRequest struct {
	CallID string `json:"callId"`
	Seq    int    `json:"seq"`
	URL    string `json:"url"`
}

// replayResult is what the app answered this time.
type replayResult struct {
	URL       string     `json:"url"`
	Method    string     `json:"method"`
	Status    int        `json:"status"`
	LatencyMs float64    `json:"latencyMs"`
	Reply     string     `json:"reply"`
	Error     string     `json:"error"`
	BXMLError *bxmlError `json:"bxmlError"`
}

// replay sends a recorded webhook again, as it was sent (without the
// credentials, which the history does not keep: a password in the URL's
// user info is shown as ***** and not sent), and shows the reply.
func (c *Console) replay(w http.ResponseWriter, r *http.Request) error {
	var req replayRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return &apiError{http.StatusRequestEntityTooLarge, "The request body is too large"}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return &apiError{http.StatusBadRequest, "Invalid JSON: " + err.Error()}
	}
	call, err := c.findCall(r.Context(), r.PathValue("callId"))
	if err != nil {
		return err
	}
	if req.CallID == "" {
		req.CallID = call.CallID
	}
	target := call
	hist, err := c.cfg.Engine.History(r.Context(), call.AccountID, call.CallID)
	if err != nil {
		return err
	}
	if req.CallID != call.CallID {
		legs, err := c.legs(r.Context(), call, hist)
		if err != nil {
			return err
		}
		target = nil
		for _, l := range legs {
			if l.CallID == req.CallID {
				target = l
			}
		}
		if target == nil {
			return &apiError{http.StatusBadRequest, fmt.Sprintf("Call %s is not a leg of call %s", req.CallID, call.CallID)}
		}
		if hist, err = c.cfg.Engine.History(r.Context(), target.AccountID, target.CallID); err != nil {
			return err
		}
	}
	if req.Seq < 1 || req.Seq > len(hist) || hist[req.Seq-1].Kind != "webhook" {
		return &apiError{http.StatusBadRequest, fmt.Sprintf("Entry %d of call %s is not a webhook", req.Seq, target.CallID)}
	}
	h := hist[req.Seq-1]
	info, ok := parseWebhookSummary(h.Summary)
	if !ok {
		return &apiError{http.StatusBadRequest, fmt.Sprintf("Entry %d of call %s does not say where it went", req.Seq, target.CallID)}
	}
	if req.URL == "" {
		req.URL = info.URL
	}
	u, err := url.Parse(req.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return &apiError{http.StatusBadRequest, fmt.Sprintf("Invalid url %q: want an absolute http or https URL", redact.URL(req.URL))}
	}
	if pw, ok := u.User.Password(); ok && pw == redact.Mask {
		u.User = nil // the history hid it: send no credentials
		req.URL = u.String()
	}
	out, err := c.send(r, info.Method, req.URL, h.Detail)
	if err != nil {
		return err
	}
	if out.Error == "" && out.Status >= 200 && out.Status < 300 {
		out.BXMLError = checkReply([]byte(out.Reply), info.EventType)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// send makes the request: POST with the JSON body, or GET with the event
// in the query.
func (c *Console) send(r *http.Request, method, target string, body []byte) (replayResult, error) {
	out := replayResult{URL: redact.URL(target), Method: method}
	var req *http.Request
	var err error
	if method == http.MethodGet {
		ev, derr := callback.Decode(body)
		if derr != nil {
			return out, &apiError{http.StatusBadRequest, "The recorded webhook does not decode: " + derr.Error()}
		}
		q, qerr := callback.EncodeQuery(ev)
		if qerr != nil {
			return out, qerr
		}
		u, _ := url.Parse(target)
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(r.Context(), http.MethodPost, target, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return out, &apiError{http.StatusBadRequest, redact.Text(err.Error())}
	}
	req.Header.Set("User-Agent", "voicehook console replay")
	start := time.Now()
	resp, err := c.cfg.Client.Do(req)
	out.LatencyMs = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		out.Error = redact.Text(err.Error())
		return out, nil
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	out.Status, out.Reply = resp.StatusCode, redact.BXMLPasswords(redact.Text(string(reply)))
	if err != nil {
		out.Error = "reading the reply: " + redact.Text(err.Error())
	}
	return out, nil
}

// maxReply is the most of a reply the console reads.
const maxReply = 1 << 20
