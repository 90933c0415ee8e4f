package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/redact"
)

// conference is schema conference.
type conference struct {
	ID                    string              `json:"id"`
	Name                  string              `json:"name"`
	CreatedTime           string              `json:"createdTime"`
	CompletedTime         *string             `json:"completedTime"`
	ConferenceEventURL    *string             `json:"conferenceEventUrl"`
	ConferenceEventMethod *string             `json:"conferenceEventMethod"`
	Tag                   *string             `json:"tag"`
	ActiveMembers         *[]conferenceMember `json:"activeMembers,omitempty"`
}

// conferenceMember is schema conferenceMember.
type conferenceMember struct {
	CallID         string   `json:"callId"`
	ConferenceID   string   `json:"conferenceId"`
	MemberURL      string   `json:"memberUrl"`
	Mute           bool     `json:"mute"`
	Hold           bool     `json:"hold"`
	CallIDsToCoach []string `json:"callIdsToCoach"`
}

func (h *Handler) toConference(c *engine.Conference, members bool) conference {
	out := conference{ID: c.ID, Name: c.Name, CreatedTime: callback.TimeOf(c.CreatedTime).String(),
		CompletedTime: timeOrNil(c.CompletedTime), ConferenceEventURL: optional(redact.URL(c.EventURL)), Tag: c.Tag}
	if c.EventURL != "" {
		out.ConferenceEventMethod = optional(c.EventMethod)
	}
	if members {
		list := mapAll(c.Members, func(m engine.ConferenceMember) conferenceMember { return h.toMember(c.AccountID, c.ID, &m) })
		out.ActiveMembers = &list
	}
	return out
}

func (h *Handler) toMember(accountID, confID string, m *engine.ConferenceMember) conferenceMember {
	coach := m.CallIDsToCoach
	if coach == nil {
		coach = []string{}
	}
	return conferenceMember{CallID: m.CallID, ConferenceID: confID, Mute: m.Mute, Hold: m.Hold, CallIDsToCoach: coach,
		MemberURL: fmt.Sprintf("%s/accounts/%s/conferences/%s/members/%s", h.cfg.BaseURL, accountID, confID, m.CallID)}
}

func (h *Handler) getConference(w http.ResponseWriter, r *http.Request) error {
	c, err := h.cfg.Engine.GetConference(r.Context(), account(r).ID, r.PathValue("conferenceId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.toConference(c, true))
	return nil
}

// listConferences is GET /conferences, with filters and paging by
// pageToken; the listing leaves the members out.
func (h *Handler) listConferences(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := engine.ConferenceFilter{AccountID: account(r).ID, Name: q.Get("name"), After: q.Get("pageToken"), Limit: 1000}
	if err := timeParams(q, timeParam{"minCreatedTime", &f.MinCreated}, timeParam{"maxCreatedTime", &f.MaxCreated}); err != nil {
		return err
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return validation(fmt.Sprintf("pageSize must be within the range [1, 1000], but was %s", v))
		}
		f.Limit = n
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	confs := h.cfg.Engine.ListConferences(r.Context(), f)
	if len(confs) > limit {
		confs = confs[:limit]
		h.linkNext(w, r, confs[len(confs)-1].ID)
	}
	writeJSON(w, http.StatusOK, mapAll(confs, func(c engine.Conference) conference { return h.toConference(&c, false) }))
	return nil
}

// updateConferenceRequest is schema updateConference.
type updateConferenceRequest struct {
	Status                 *string `json:"status"`
	RedirectURL            *string `json:"redirectUrl"`
	RedirectMethod         *string `json:"redirectMethod"`
	Username               *string `json:"username"`
	Password               *string `json:"password"`
	RedirectFallbackURL    *string `json:"redirectFallbackUrl"`
	RedirectFallbackMethod *string `json:"redirectFallbackMethod"`
	FallbackUsername       *string `json:"fallbackUsername"`
	FallbackPassword       *string `json:"fallbackPassword"`
}

// updateConference is POST /conferences/{id}: status completed ends it;
// a redirectUrl sends conferenceRedirect for new conference BXML.
func (h *Handler) updateConference(w http.ResponseWriter, r *http.Request) error {
	var req updateConferenceRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	status := "active"
	if req.Status != nil {
		status = *req.Status
	}
	var u engine.ConferenceUpdate
	switch status {
	case "completed":
		u.Complete = true
	case "active":
		if blank(req.RedirectURL) {
			return validation("redirectUrl is required when status is active")
		}
		t, err := redirectTarget(req.RedirectURL, req.RedirectMethod, req.Username, req.Password,
			req.RedirectFallbackURL, req.RedirectFallbackMethod, req.FallbackUsername, req.FallbackPassword)
		if err != nil {
			return err
		}
		u.Redirect = t
	default:
		return validation(fmt.Sprintf("Invalid status %q: must be active or completed", status))
	}
	if err := h.cfg.Engine.UpdateConference(r.Context(), account(r).ID, r.PathValue("conferenceId"), u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// updateConferenceBXML is PUT /conferences/{id}/bxml: conference verbs
// that replace what the conference was playing.
func (h *Handler) updateConferenceBXML(w http.ResponseWriter, r *http.Request) error {
	if err := requireType(r, "application/xml", "text/xml"); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	doc, err := bxml.ParseUpdate(body, bxml.ConferenceContext)
	if err != nil {
		return validation(err.Error())
	}
	if err := doc.RequireAbsoluteURLs(); err != nil {
		return validation(err.Error())
	}
	if err := h.cfg.Engine.UpdateConferenceBXML(r.Context(), account(r).ID, r.PathValue("conferenceId"), doc.Verbs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getConferenceMember(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("conferenceId")
	m, err := h.cfg.Engine.GetConferenceMember(r.Context(), account(r).ID, id, r.PathValue("memberId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.toMember(account(r).ID, id, m))
	return nil
}

// updateConferenceMemberRequest is schema updateConferenceMember.
type updateConferenceMemberRequest struct {
	Mute           *bool     `json:"mute"`
	Hold           *bool     `json:"hold"`
	CallIDsToCoach *[]string `json:"callIdsToCoach"`
}

func (h *Handler) updateConferenceMember(w http.ResponseWriter, r *http.Request) error {
	var req updateConferenceMemberRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	u := engine.MemberUpdate{Mute: req.Mute, Hold: req.Hold}
	if req.CallIDsToCoach != nil {
		u.SetCoach = true
		for _, id := range *req.CallIDsToCoach {
			if err := callback.ValidateCallID(strings.TrimSpace(id)); err != nil {
				return validation(fmt.Sprintf("callIdsToCoach: %v", err))
			}
			u.CallIDsToCoach = append(u.CallIDsToCoach, strings.TrimSpace(id))
		}
	}
	err := h.cfg.Engine.UpdateConferenceMember(r.Context(), account(r).ID, r.PathValue("conferenceId"), r.PathValue("memberId"), u)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
