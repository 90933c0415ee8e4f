// Package bxml reads, validates and builds BXML, the XML documents that
// tell a Bandwidth Voice API v2 call what to do: a <Response> returned to a
// webhook, or a <Bxml> sent to update a call or conference over REST
// (where a <Response> is accepted too, as Bandwidth's hosted API accepts it).
//
// # Reading
//
// [Parse] and [ParseUpdate] read a document and validate all of it before
// returning: unknown verbs and attributes, values out of range, malformed
// numbers, URLs and ids, wrong nesting, missing required attributes, and
// verbs not allowed in the [Context] the document will run in. Every problem
// is reported, each with its line, column, verb and attribute, in an
// [ErrorList] whose text fits a disconnect's errorMessage:
//
//	line 3, column 5: <Gather maxDigits>: 51 is out of range: 1 to 50
//
// Parsing is bounded: documents over [MaxSize] (64 KB) are refused before
// they are read, elements are capped in number and depth, DTDs and entity
// declarations are refused outright (so no entity is ever expanded), and
// invalid UTF-8 is an error. Nothing a document holds can make the parser
// panic or allocate without bound.
//
// # Building
//
// Each verb is a struct; a document is a list of them:
//
//	resp := bxml.NewResponse(
//		&bxml.Gather{
//			GatherURL: "/menu", MaxDigits: 1, FirstDigitTimeout: new(10 * time.Second),
//			Prompts:   []bxml.Verb{&bxml.SpeakSentence{Text: "Press 1 for sales."}},
//		},
//		&bxml.Redirect{RedirectURL: "/no-input"},
//	)
//	if err := resp.Validate(bxml.CallContext); err != nil { … }
//	body, _ := resp.Marshal()
//
// Marshal writes what the official SDKs write for the same verbs, and a
// marshalled document parses back to the same verbs. Attributes left at
// their zero value are absent, so Bandwidth's defaults apply; the few whose
// zero means something else are pointers (see [Gather.FirstDigitTimeout]).
// Durations are time.Duration, written as seconds (or milliseconds, for
// SendDtmf) the way BXML expects. [WithDefaults] fills in Bandwidth's
// documented defaults, for code that runs verbs.
//
// # SSML
//
// [SpeakSentence] has Text, plain text that is escaped, and SSML, text with
// SSML tags written as they are. Parsing keeps SSML content byte for byte.
//
// # URLs
//
// Relative URLs are kept as written. [Response.ResolveURLs] resolves every
// URL of a document against the URL that served it, which is what the engine
// does before running it.
package bxml
