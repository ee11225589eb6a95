package engine

import (
	"fmt"
	"testing"
)

var bigLimits = Limits{MaxNodes: 20_000, MaxEdges: 200_000}

// BenchmarkStep measures one visitor message on a node with two edges (one
// condition that fails, then the default), entering the next node, which
// sends a message and waits. Graph size must not matter.
func BenchmarkStep(b *testing.B) {
	for _, size := range []int{10, 100, 1000, 10_000} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			g := chainGraph(size, 2)
			c, err := Compile(&g, Options{Limits: bigLimits})
			if err != nil {
				b.Fatal(err)
			}
			s, _, err := Step(c, State{}, Event{Type: EventStart, AgentsOnline: 1}, t0)
			if err != nil {
				b.Fatal(err)
			}
			ev := Event{Type: EventVisitorMessage, Text: "next please", AgentsOnline: 1}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := Step(c, s, ev, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStepEdges measures how a step grows with the number of edges
// tried before the default one.
func BenchmarkStepEdges(b *testing.B) {
	for _, edges := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("edges=%d", edges), func(b *testing.B) {
			g := chainGraph(100, edges)
			c, err := Compile(&g, Options{Limits: bigLimits})
			if err != nil {
				b.Fatal(err)
			}
			s, _, _ := Step(c, State{}, Event{Type: EventStart, AgentsOnline: 1}, t0)
			ev := Event{Type: EventVisitorMessage, Text: "next please", AgentsOnline: 1}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := Step(c, s, ev, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompile measures checking and compiling a graph; it must grow at
// most linearly with its size. Every edge condition is distinct so the
// per-graph cache of identical conditions does not hide the cost.
func BenchmarkCompile(b *testing.B) {
	for _, size := range []int{10, 100, 1000} {
		for _, edges := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("nodes=%d/edges=%d", size, edges), func(b *testing.B) {
				g := chainGraph(size, edges)
				for i := range g.Edges {
					if g.Edges[i].Condition != "" {
						g.Edges[i].Condition = fmt.Sprintf(`message.text == "jump%d"`, i)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := Compile(&g, Options{Limits: bigLimits}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkWorstAllowedCondition measures the most expensive kind of
// condition the policy lets through: one predicate over the largest range.
func BenchmarkWorstAllowedCondition(b *testing.B) {
	c, err := compileCondition(b, `count(1..1000, # % 7 == 0) > 10 && any(split(message.text, ""), # == "z")`)
	if err != nil {
		b.Fatal(err)
	}
	ch := newChat(b, c, 1)
	ch.say("buy")
	ch.say("20000")
	s := ch.s
	long := make([]byte, MaxVisitorText)
	for i := range long {
		long[i] = 'a'
	}
	ev := Event{Type: EventVisitorMessage, Text: "a@b.co", AgentsOnline: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Step(c, s, ev, t0); err != nil {
			b.Fatal(err)
		}
	}
}
