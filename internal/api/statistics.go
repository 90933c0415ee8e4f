package api

import "net/http"

// statistics is schema accountStatistics: the account's outbound queue.
type statistics struct {
	CurrentCallQueueSize int `json:"currentCallQueueSize"`
	MaxCallQueueSize     int `json:"maxCallQueueSize"`
}

// getStatistics is GET /statistics: how many of the account's calls wait
// in its queue on this node, and how many it holds (calls per second ×
// 300); both 0 for an account without a rate limit.
func (h *Handler) getStatistics(w http.ResponseWriter, r *http.Request) error {
	current, capacity := h.cfg.Engine.QueueStats(account(r).ID)
	writeJSON(w, http.StatusOK, statistics{CurrentCallQueueSize: current, MaxCallQueueSize: capacity})
	return nil
}
