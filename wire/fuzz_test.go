package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	`{"type":"hello"}`,
	`{"type":"hello","token":"a.b","last_seq":3,"locale":"en-US","page_url":"https://a.example/x","referrer":"https://g.example/",` +
		`"vars":{"plan":"pro","n":1e20,"f":0.001,"b":true,"neg":-0},"identity":{"id":"u","email":"a@b.c","name":"A","signature":"ab=="}}`,
	`{"type":"message","client_id":"c-1","text":"hello \u00e9 \ud83d\ude00 \"q\" \\ \/ <b>","quick_reply":"yes"}`,
	`{"type":"message","client_id":"c","text":"\ud800"}`,
	`{"type":"typing","on":true}`,
	`{"type":"resume","last_seq":0}`,
	`{"type":"ping"}`,
	`{"TYPE":"ping","Type":"message","type":"typing","on":false}`,
	`{"type":"hello","vars":{"a":1,"a":"x"}}`,
	`{"type":"message","client_id":"c","text":""}`,
	`{"type":"message","client_id":"c","text":"a\u0000"}`,
	`{"type":"hello","vars":{"a":{"b":[1]}}}`,
	`{"type":"hello","vars":{"x":1e309}}`,
	`{"type":"nope"}`,
	`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]`,
	`{"type":"ping","x":"[[[[[[[[[[[[[[[[[[[[[[["}`,
	`{"type":"ping","x":"\"[[[[[[[[[[[[[[[[[[[[[[["}`,
	"{\"type\":\"message\",\"client_id\":\"c\",\"text\":\"\xff\"}",
	`null`, `1`, `"x"`, ``, `{`, `{"type":"resume","last_seq":-1}`,
}

// FuzzDecodeClient checks that DecodeClient never panics, refuses only with
// a *FrameError of a known code, and that whatever it accepts re-encodes to
// no more bytes and decodes to an equal frame.
func FuzzDecodeClient(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, err := DecodeClient(data)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is a %T, not a *FrameError", err, err)
			}
			switch fe.Code {
			case CodeBadFrame, CodeUnknownType, CodeTooLarge, CodeInvalidField:
			default:
				t.Fatalf("unexpected code %q", fe.Code)
			}
			if frame != nil {
				t.Fatal("a frame and an error")
			}
			return
		}
		enc := EncodeClient(frame)
		if len(enc) > len(data) {
			t.Fatalf("re-encoding grew the frame: %d > %d bytes\nin:  %s\nout: %s", len(enc), len(data), data, enc)
		}
		again, err := DecodeClient(enc)
		if err != nil {
			t.Fatalf("re-encoded frame refused: %v\nin:  %s\nout: %s", err, data, enc)
		}
		if !reflect.DeepEqual(frame, again) {
			t.Fatalf("round trip changed the frame\nin:    %s\nfirst: %#v\nagain: %#v", data, frame, again)
		}
	})
}

func TestFuzzSeedsCoverEveryType(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range fuzzSeeds {
		if f, err := DecodeClient([]byte(s)); err == nil {
			seen[f.Type()] = true
		}
	}
	for _, typ := range []string{TypeHello, TypeMessage, TypeTyping, TypeResume, TypePing} {
		if !seen[typ] {
			t.Errorf("no valid seed of type %s", typ)
		}
	}
	if !strings.Contains(strings.Join(fuzzSeeds, ""), "[[[[[[[[[[[[[[[[") {
		t.Error("no deep seed")
	}
}
