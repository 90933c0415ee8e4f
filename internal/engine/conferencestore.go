package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Durable conferences. When Config.Store is also a ConferenceStore, a
// conference's actor stores its record after every event that changed it —
// a member joined, left or was changed, the conference completed — as a
// call's actor stores the call: one write per event, on the actor, errors
// logged. A completed conference, once stored, leaves the engine's memory;
// readers then find it in the store, as they find conferences of other
// nodes and those of an engine that stopped.

// confStore returns the store's ConferenceStore, or nil when it keeps no
// conferences.
func (e *Engine) confStore() ConferenceStore {
	cs, _ := e.cfg.Store.(ConferenceStore)
	return cs
}

// save stores the conference's record if it changed. A write that fails
// is logged and tried again after the next event.
func (c *conference) save() {
	cs := c.e.confStore()
	if !c.dirty || cs == nil {
		return
	}
	if err := cs.SaveConference(c.e.ctx, c.snapshot()); err != nil {
		c.log.Error("store the conference", "err", err)
		return
	}
	c.dirty = false
}

// forget drops a finished conference from the engine's memory once its
// last state is stored; without a ConferenceStore, memory is the only
// place it is kept.
func (c *conference) forget() {
	if c.dirty || c.e.confStore() == nil {
		return
	}
	c.e.mu.Lock()
	delete(c.e.confs, c.st.ID)
	c.e.confOrder = slices.DeleteFunc(c.e.confOrder, func(o *conference) bool { return o == c })
	c.e.mu.Unlock()
}

// storedConference returns the account's conference id from the store;
// notFound is the error when the store has none or keeps no conferences.
func (e *Engine) storedConference(ctx context.Context, accountID, id string, notFound error) (*Conference, error) {
	cs := e.confStore()
	if cs == nil {
		return nil, notFound
	}
	s, err := cs.GetConference(ctx, accountID, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("engine: get conference %s from the store: %w", id, err)
	}
	return s, nil
}

// overlay replaces the stored conferences in list that this engine runs
// with what they are now.
func (e *Engine) overlay(list []Conference) {
	live := make([]*conference, len(list))
	e.mu.Lock()
	for i, s := range list {
		live[i] = e.confs[s.ID]
	}
	e.mu.Unlock()
	for i, c := range live {
		if c != nil {
			list[i] = c.snapshot()
		}
	}
}

// endConferences completes the stored conferences that no engine runs any
// more: those active in the store, not run by this engine, whose members
// are all calls in ended (calls just ended by recovery or adoption), or
// that have no member. Each is stored completed now, with no members and
// its Joined kept, so that the console still shows its legs.
//
// No conference webhook is sent for them (neither conferenceMemberExit nor
// conferenceCompleted): the engine that would have sent them is gone, and
// with it the conference's targets and the order of its events.
func (e *Engine) endConferences(ctx context.Context, ended map[string]bool) {
	cs := e.confStore()
	if cs == nil {
		return
	}
	active, err := cs.ActiveConferences(ctx)
	if err != nil {
		e.log.Error("find the stored active conferences", "err", err)
		return
	}
	now := e.cfg.Clock.Now()
	for _, s := range active {
		e.mu.Lock()
		_, mine := e.confs[s.ID]
		e.mu.Unlock()
		// A member whose call ended here, or has ended for good in the
		// store (its node died between the call's last write and the
		// conference's), is gone. One with no member is only between a
		// leave and its close, or a join: it is left alone unless the
		// call that created it is gone (another node may run it).
		gone := func(callID string) bool {
			if ended[callID] {
				return true
			}
			c, err := e.cfg.Store.GetCall(ctx, s.AccountID, callID)
			return err == nil && c.State == StateDisconnected
		}
		if mine || slices.ContainsFunc(s.Members, func(m ConferenceMember) bool { return !gone(m.CallID) }) ||
			len(s.Members) == 0 && !gone(s.CreatorCallID) {
			continue
		}
		s.CompletedTime = now
		s.Members = nil
		if err := cs.SaveConference(ctx, s); err != nil {
			e.log.Error("complete a conference left active", "conference_id", s.ID, "err", err)
			continue
		}
		e.log.Info("completed a conference left active by a stopped engine, without its webhooks", "conference_id", s.ID)
	}
}
