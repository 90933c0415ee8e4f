package bxml_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/voicehook/voicehook/bxml"
)

// Build an IVR menu, check it, and render it for a webhook reply.
func ExampleNewResponse() {
	resp := bxml.NewResponse(
		&bxml.Gather{
			GatherURL:         "/menu",
			MaxDigits:         1,
			FirstDigitTimeout: new(10 * time.Second),
			Prompts: []bxml.Verb{
				&bxml.SpeakSentence{Text: "Press 1 for sales, 2 for support."},
			},
		},
		&bxml.Redirect{RedirectURL: "/no-input"},
	)
	if err := resp.Validate(bxml.CallContext); err != nil {
		log.Fatal(err)
	}
	body, err := resp.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(body))
	// Output: <?xml version="1.0" encoding="UTF-8"?><Response><Gather gatherUrl="/menu" maxDigits="1" firstDigitTimeout="10"><SpeakSentence>Press 1 for sales, 2 for support.</SpeakSentence></Gather><Redirect redirectUrl="/no-input"/></Response>
}

// Read what an app returned, as the engine does, and report every problem.
func ExampleParse() {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather gatherUrl="/menu" maxDigits="51">
    <Hangup/>
  </Gather>
</Response>`
	_, err := bxml.Parse([]byte(doc), bxml.CallContext)
	var list bxml.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e)
		}
	}
	// Output:
	// line 3, column 3: <Gather maxDigits>: 51 is out of range: 1 to 50
	// line 4, column 5: <Gather>: <Hangup> is not allowed inside it (allowed: PlayAudio, SpeakSentence)
}

// SSML passes through SpeakSentence as written.
func ExampleSpeakSentence() {
	resp := bxml.NewResponse(&bxml.SpeakSentence{
		SSML:  `Your code is <say-as interpret-as="characters">A1B2</say-as>.<break time="500ms"/>`,
		Voice: "susan",
	})
	fmt.Println(resp)
	// Output: <?xml version="1.0" encoding="UTF-8"?><Response><SpeakSentence voice="susan">Your code is <say-as interpret-as="characters">A1B2</say-as>.<break time="500ms"/></SpeakSentence></Response>
}

// Make the relative URLs of a document absolute against the URL that served it.
func ExampleResponse_ResolveURLs() {
	resp, err := bxml.Parse([]byte(`<Response><Redirect redirectUrl="next"/></Response>`), bxml.CallContext)
	if err != nil {
		log.Fatal(err)
	}
	if err := resp.ResolveURLs("https://app.example.com/ivr/answer"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Verbs[0].(*bxml.Redirect).RedirectURL)
	// Output: https://app.example.com/ivr/next
}

// A conference event may only get audio and recording verbs back.
func ExampleContext() {
	_, err := bxml.Parse([]byte(`<Response><Hangup/></Response>`), bxml.ConferenceContext)
	fmt.Println(err)
	// Output: invalid BXML: line 1, column 11: <Hangup>: not allowed in a conference (allowed: PauseRecording, PlayAudio, ResumeRecording, SpeakSentence, StartRecording, StopRecording)
}
