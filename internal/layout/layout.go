// Package layout holds no code. Its tests check, with go list -deps, the
// import rules that keep voicehook's layers apart, so that a wrong import
// fails CI rather than waiting for a review:
//
//   - callback/ and bxml/ are the wire formats: the JSON of every webhook
//     and the BXML documents. Apps import them on their own, so they depend
//     on nothing of voicehook (bxml may use callback) and on few modules.
//   - internal/engine decides what happens to a call. It does no I/O of its
//     own: no net/http, no database/sql, none of the adapters (internal/api,
//     internal/delivery, internal/store, internal/phone, internal/server).
//     They reach it through small interfaces it declares. No SIP, RTP,
//     codec or speech code either: engine.Line is its media port.
//   - The SIP stack (sipgo, diago) is imported by internal/phone/sip alone.
//   - examples/ are apps a user could have written outside this module:
//     they import the public packages only, never internal/.
package layout
