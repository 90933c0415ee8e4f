// Package sip is voicehook's real phone network: SIP signalling over UDP
// and TCP, and G.711 media over RTP, behind the engine's Network and Line
// ports.
//
// # What is whose
//
// Signalling is github.com/emiago/sipgo (v1.7.3, BSD-2-Clause: transactions,
// dialogs, digest authentication, CANCEL). SDP and RTP are this package's:
// a small SDP offer/answer (PCMU, PCMA, telephone-event at the offer's
// payload type) and an RTP stream on github.com/pion/rtp (v1.10.6, MIT:
// packet encoding only). github.com/emiago/diago (v0.42.1, MPL-2.0) is not
// used by the network: its media layer hides the packets and assumes
// telephone-event is 101, drops RFC 4733 events whose first packet has
// duration 0, and answers SIP INFO DTMF with 406, which are the parts this
// package must get right. The tests use diago as a phone, an
// implementation of SDP, RTP and DTMF independent of this package's.
// Nothing outside this package imports sipgo or diago.
//
// # Goroutines and buffers
//
// A Network owns two listener goroutines (UDP, TCP, run by sipgo's
// transport layer, which also runs one goroutine per request it hands to
// the handlers here), a goroutine that drops expired registrations every
// minute, and the pacer's goroutines, one per CPU, which send
// the RTP of every answered call on one 20 ms clock (pacer.go). Every line
// (one call) owns:
//   - an op goroutine that runs its signalling steps in order: dial (INVITE,
//     wait, CANCEL; to a registered number, one goroutine per binding
//     that the dial step waits for), answer (200 OK, wait for ACK), hang up (603, BYE). Line
//     methods queue steps and return.
//   - an event goroutine that hands PhoneEvents to the engine's notify in
//     order; every other goroutine only appends to its queue, so no network
//     goroutine ever waits on the engine.
//   - once answered, a media sender, ticked by a pacer goroutine under the
//     sender's own mutex, and a media reader goroutine (see media). The
//     sender owns the playback, the digits being sent and the captures: the
//     Line methods only append commands to the line's command queue, which
//     the sender takes every 20 ms tick. The reader owns the RFC 4733
//     decoder and appends the far end's decoded samples to a buffer capped
//     at one second, which the sender drains one frame per tick.
//   - its streams' taps and injected audio, each under its own mutex so
//     that they work before the answer (tap.go). Every tick, last, the
//     sender hands each tap the frame heard and the frame sent (silence
//     when none left), under the taps' mutex, so a tap removed is not
//     called again; the sink runs on the pacer goroutine and must copy
//     and return. Injected audio waits in a queue capped at 60 s (beyond,
//     the oldest is dropped, with a warning in the log once); the sender
//     takes a frame of it every tick and adds it, clipped, to its
//     playback and a room's mix. While digits are sent it takes none: the
//     injected audio waits, as the playback does. ClearInjected empties
//     the queue at once, so the next tick sends none of it.
//   - while a Playback's prompts are prepared (speech synthesised, files
//     fetched and decoded), one goroutine that hands them to the sender
//     through a channel sized to hold them all; the sender sends silence
//     until a prompt is ready.
//   - for a call that is ringing or answered, a watcher of the dialog's end.
//
// A capture owns the samples it collects until Stop hands them to the
// caller. Close hangs up every line, waits for them (five seconds at most)
// and stops every goroutine.
//
// # Media
//
// 20 ms packets paced from an absolute schedule (a late wake-up sends the
// missed packets, up to five, then skips). The far end's audio passes a
// 40 ms playout buffer; channel 1 of a capture is what was heard in each
// tick (silence where no packet came), channel 2 what was sent, so the two
// stay aligned. RTP is sent to the address of the far end's SDP and taken
// only from the far end: that address, or the first source (address and
// port) that sends to the call's port; packets from any other source are
// dropped. An SDP whose connection address is unspecified (0.0.0.0, ::) or
// multicast is refused (488 for an offer; a failed call for an answer). Digits go as RFC 4733 events at the payload type the
// SDP negotiated (the offer's, when the far end offered), in place of
// audio while they sound; the far end's events are read with package dtmf's
// tolerant decoder, and SIP INFO (application/dtmf-relay, application/dtmf)
// is answered 200. Prompts are decoded and resampled to 8 kHz mono by
// package pcm, spoken by Config.TTS.
//
// # Signalling
//
// UDP and TCP on the same port (requests on UDP leave from the listening
// socket). An INVITE to a number Config.Answers answers gets 100 and 180;
// the call's Answered sends 200 with the SDP answer (PCMU or PCMA, in the
// offer's order of preference); an answer whose ACK has not come after
// 32 s (64*T1) failed: the call is hung up with BYE and reported hung up.
// A BYE before the 200 gets its 200 and the INVITE 487 Request
// Terminated. A Hangup before that sends 603. Outbound
// INVITEs offer PCMU, PCMA and telephone-event/8000 at 101; a 401 or 407 is
// answered once with the gateway's credentials. A `to` that is a SIP URI is
// dialled only once Config.CheckHost allowed its host: the line's op
// goroutine resolves the host once (three seconds at most), asks about
// every address, and sends the INVITE to the checked address, so a DNS
// answer that changes later cannot redirect it; a refusal ends the call
// with PhoneFailed. The Contact host and the media address of its answer
// are checked the same way (a refused Contact gets no ACK or BYE). Every message of a dialog is reported as a PhoneSignal.
//
// # Dialog state
//
// A line reports its dialog's state to the engine (PhoneDialog), which
// stores it with the call: an outbound call once its 2xx is ACKed, just
// after PhoneAnswered; an inbound call as its 200 OK goes out, before the
// ACK, so that a node that dies while it waits leaves a dialog another can
// end; and again on a target refresh (a re-INVITE from the far end with a
// new Contact, or the 2xx of our session refresh; for a call to a SIP
// URI's own host, only to a host Config.CheckHost allows). The state is
// versioned JSON of this package's ({"v":1,...}): Call-ID, both tags, the
// From and To URIs of our requests, the remote target, the route set in
// the order
// of our Route headers (the 2xx's Record-Route reversed for a call we
// placed, the INVITE's as it came for one we took), the transport and the
// CSeq of our last request; our CSeq alone does not make a new report.
// Network.EndDialog (engine.DialogEnder) ends a dialog from that state
// alone, on any node: a BYE from its own address (Via), to the remote
// target or the first route (a strict router takes the Request-URI), with
// the stored CSeq plus 1000, since the line may have sent requests after
// the state was stored; it returns nil on a 2xx or a 481 (the far end has
// no such dialog), an error otherwise, or when ctx ends first. A BYE that
// the far end challenges (401, 407) is not answered. The live line keeps
// sending its requests to the Contact of the INVITE or its answer (sipgo's
// dialog), even after a target refresh.
//
// # Softphones
//
// Config.Users may REGISTER: digest authentication (RFC 2617 MD5, realm
// "voicehook", qop=auth or none; the nonce is the time signed with a key
// of the network's, good for five minutes, so a 401 keeps no state), a
// 401 with a challenge otherwise. A binding lasts the Contact's expires,
// else the Expires header's, else 3600 s; less than 60 is answered 423,
// more than 7200 is cut to 7200; expires=0 removes the binding, and
// Contact: * with Expires: 0 every binding; ten bindings at most. The 200
// lists the bindings left. Bindings lapse on time, dropped when looked up
// and by the minute's sweep; they are kept in memory only. A Dial to a
// registered user's number (before any gateway) sends an INVITE to every
// binding at once: the first 2xx wins and the others are cancelled (one
// that answers too late gets ACK and BYE); when none answers, a 486 makes
// the call busy, else the first final response decides. Bindings are not
// guarded by Config.CheckHost: a registered softphone is trusted like a
// gateway. An INVITE whose From user is a user's username calls as that
// user's number.
//
// # Re-INVITE and hold
//
// A re-INVITE from the far end of an inbound or an outbound call is an
// offer: a=sendonly, a=inactive or an unspecified connection address
// (c=0.0.0.0, the old style) holds the call, a=sendrecv resumes it. The
// 200 mirrors its direction (sendonly → recvonly, inactive → inactive)
// with the next o= version; while held the sender's clock and playback run
// but no RTP leaves. A new codec (PCMU, PCMA) or a new address or port is
// applied to the sender at once (a guarded outbound call asks
// Config.CheckHost about the new address; refused: 488). A re-INVITE
// without SDP gets the SDP the call has; SDP in its ACK is ignored.
// An answered call that hears no RTP for Config.RTPTimeout (60 s) while
// the far end's SDP says sendrecv ends: BYE, and PhoneHungUp whose Reason
// says why.
//
// Session timers (RFC 4028), minimal: an INVITE's Session-Expires (90 s at
// least, else 422 with Min-SE) is echoed in the 200 with Supported: timer,
// the refresher being the caller unless it named us; an outbound call's
// 2xx with Session-Expires makes us the refresher unless it names the far
// end. The refresher sends a re-INVITE with the call's SDP at half the
// interval (one that fails is not retried before the next); a far end
// that should refresh and sends no re-INVITE within the interval gets a
// BYE, and the engine PhoneHungUp with the reason "session timer expired".
// UPDATE is not used or taken.
//
// # Rooms
//
// A Network is the engine's Mixer: Room opens a room where calls' audio
// meets, two calls for a bridge, up to twenty for a conference. A line of
// the network joins as an audio member (one whose media has not started
// yet too: its sender takes its place at its first tick); any other line,
// a simulated phone, joins silent, heard only through Say. The pacer ticks
// a room beside the senders, and only while a member carries audio. Each
// audio member has a link, two small queues of frames under their own
// mutex: each tick its sender puts in what the far end said and takes out
// what the room mixed for it, which it sends on top of its own playback
// (so a line's capture holds the other parties in its second channel);
// each tick the room takes a frame from every member, adds Say and its
// playback, and puts every member's mix out: the sum of the members it may
// hear, never itself, clipped. Mute: not heard; hold: neither hearing nor
// heard, nor hearing the playback; a coach is heard only by the calls it
// coaches, and hears everyone. Members meet as 8 kHz linear samples, so a
// PCMU call hears a PCMA one. Shards tick at their own phase, so a queue
// holds a frame or two; beyond four the oldest are dropped, so the room
// adds about one tick (BenchmarkConference20 measures it) and never grows.
// A line that ends leaves by itself; the last audio member to leave ends
// the room's playback with a PhonePlayed that says so. DTMF does not go
// through rooms: the engine relays digits itself.
//
// Not supported: an INVITE without SDP (answered 488), a call on hold
// from its first INVITE, a changed telephone-event payload type in a
// re-INVITE, SRTP,
// sending RTP to the address packets come from (behind NAT set
// ExternalHost), digits to a far end whose SDP has no telephone-event (they
// are dropped, with a warning in the log).
//
// BenchmarkCallSetup measures calls set up and torn down one after another
// between two Networks on loopback; BenchmarkConcurrentPlayback holds 200
// calls playing at once and reports the share of RTP packets sent more than
// 5 ms late and the memory of a live line. BenchmarkBridgedPairs reports
// that share for 50, 100 and 200 pairs of calls bridged in rooms, and
// BenchmarkConference20 the CPU time a conference member costs and the
// delay a room adds; BenchmarkTappedCalls that share for 100 calls plain,
// with two taps on each, and with injected audio too. The README gives
// the figures and commands of the first four; the last one's command is
// in its comment.
package sip
