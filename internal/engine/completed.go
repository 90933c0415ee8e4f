package engine

import (
	"context"
	"time"
)

// CompletedGrace is how long after a call ends a request to hang it up
// (state completed) still succeeds, doing nothing: the hosted API answers
// 200 to a hang-up that crosses the call's own end (the document the app
// sent over REST ran out, or failed), and Bandwidth's SDK tests rely on it.
// Later, the request is refused as any change to an ended call is (409).
const CompletedGrace = time.Minute

// endedLately reports whether a call of the account ended no more than
// CompletedGrace ago.
func (e *Engine) endedLately(ctx context.Context, accountID, callID string) bool {
	c, err := e.GetCall(ctx, accountID, callID)
	if err != nil || c.State != StateDisconnected || c.EndTime.IsZero() {
		return false
	}
	return e.cfg.Clock.Now().Sub(c.EndTime) <= CompletedGrace
}

// completeEnded turns the conflict of a hang-up request that met an ended
// call into success while the call's end is recent (CompletedGrace).
func (e *Engine) completeEnded(ctx context.Context, accountID, callID string, err error) error {
	if ErrorCode(err) == EConflict && e.endedLately(ctx, accountID, callID) {
		return nil
	}
	return err
}
