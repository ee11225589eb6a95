package wire

import (
	"encoding/json"
	"testing"
)

func BenchmarkDecodeMessage(b *testing.B) {
	frame := []byte(`{"type":"message","client_id":"m-1699999999999-3","text":"Hi, I'd like to know more about your pricing for teams of 20."}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeClient(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHello(b *testing.B) {
	frame := []byte(`{"type":"hello","token":"v1.eyJjIjoiY3ZfMSJ9.c2lnbmF0dXJl","last_seq":42,"locale":"en-US",` +
		`"page_url":"https://shop.example/pricing","referrer":"https://www.google.com/","vars":{"plan":"pro","seats":20,"trial":false}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeClient(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDeep is the cost of refusing a frame of nothing but '['.
func BenchmarkDecodeDeep(b *testing.B) {
	frame := make([]byte, MaxFrameBytes)
	for i := range frame {
		frame[i] = '['
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodeClient(frame); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	ev := sampleServerFrames()[2]
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = ev.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEncodeEventStd is encoding/json on the same event, for scale.
func BenchmarkEncodeEventStd(b *testing.B) {
	type plain Event
	ev := (*plain)(sampleServerFrames()[2].(*Event))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}
