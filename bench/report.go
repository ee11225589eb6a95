package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Target statuses.
const (
	Met    = "met"
	NotMet = "not met"
	NA     = "n/a"
)

// Target is one goal of the issue, judged on this run when the run has
// the load the goal is stated at, else n/a with the command that does.
type Target struct {
	Name   string `json:"name"`
	Want   string `json:"want"`
	Got    string `json:"got,omitempty"`
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
}

func judge(ok bool) string {
	if ok {
		return Met
	}
	return NotMet
}

// evaluate judges the targets on rep.
func evaluate(rep *Report) []Target {
	fd := rep.Frontdesk
	var ts []Target

	t := Target{Name: "embedded throughput, saturated", Want: "≥ 5,000 visitor messages/s", Status: NA,
		Note: "run --mode embedded --rate 0 (with enough --visitors: each sends ≤ 9.5 frames/s)"}
	if rep.Mode == Embedded && rep.Rate == 0 {
		t.Got = fmt.Sprintf("%.0f messages/s", fd.MessagesPerSecond)
		t.Status, t.Note = judge(fd.MessagesPerSecond >= 5000), ""
		if fd.ClientCapPerSecond > 0 && fd.MessagesPerSecond >= 0.9*fd.ClientCapPerSecond {
			t.Note = fmt.Sprintf("at the visitors' cap of %.0f/s: use more --visitors", fd.ClientCapPerSecond)
		}
	}
	ts = append(ts, t)

	t = Target{Name: "embedded p99 bot reply at 1,000 visitors × 1 message/s", Want: "≤ 10 ms", Status: NA,
		Note: "run --mode embedded --visitors 1000 --rate 1000"}
	if rep.Mode == Embedded && rep.Rate > 0 {
		t.Got = fmt.Sprintf("%.2f ms at %d visitors, %g messages/s", fd.Reply.P99, rep.Visitors, rep.Rate)
		if rep.Visitors >= 1000 && rep.Rate >= 1000 {
			t.Status, t.Note = judge(fd.Reply.P99 <= 10), ""
		}
	}
	ts = append(ts, t)

	t = Target{Name: "server CPU per message vs the echo floor", Want: "≤ 5×", Status: NA, Note: "needs the floor (without --no-floor)"}
	if rep.Ratios != nil && rep.Ratios.CPUPerMessage > 0 {
		t.Got = fmt.Sprintf("%.1f× (%.3f vs %.3f CPU-s per 1000 messages)", rep.Ratios.CPUPerMessage, fd.ServerCPUPer1000, rep.Floor.ServerCPUPer1000)
		t.Status, t.Note = judge(rep.Ratios.CPUPerMessage <= 5), ""
	}
	ts = append(ts, t)

	t = Target{Name: "postgres throughput vs pgbench single-row INSERTs", Want: "≥ 40% of pgbench's rate", Status: NA,
		Note: "run --mode postgres --rate 0 with pgbench installed"}
	if rep.Mode == Postgres && rep.Rate == 0 && rep.Pgbench != nil && rep.Pgbench.TPS > 0 {
		share := fd.MessagesPerSecond / rep.Pgbench.TPS
		t.Got = fmt.Sprintf("%.0f%% (%.0f messages/s vs %.0f tps, %d clients)", 100*share, fd.MessagesPerSecond, rep.Pgbench.TPS, rep.Pgbench.Clients)
		t.Status, t.Note = judge(share >= 0.4), ""
	}
	ts = append(ts, t)

	t = Target{Name: "postgres p99 bot reply at 1,000 messages/s", Want: "≤ 15 ms", Status: NA,
		Note: "run --mode postgres --visitors 1000 --rate 1000"}
	if rep.Mode == Postgres && rep.Rate > 0 {
		t.Got = fmt.Sprintf("%.2f ms at %g messages/s", fd.Reply.P99, rep.Rate)
		if rep.Rate >= 1000 {
			t.Status, t.Note = judge(fd.Reply.P99 <= 15), ""
		}
	}
	ts = append(ts, t)

	t = Target{Name: "idle visitor connection", Want: "≤ 20 kB", Status: NA, Note: "run with --idle K > 0"}
	if fd.Idle.Opened > 0 {
		t.Got = fmt.Sprintf("%.1f kB (%d sockets)", fd.Idle.BytesPerSocket/1000, fd.Idle.Opened)
		t.Status, t.Note = judge(fd.Idle.BytesPerSocket <= 20_000), ""
	}
	ts = append(ts, t)

	for _, c := range []struct {
		name string
		want float64
		get  func(Percentiles) float64
	}{
		{"second node through Redis adds, p50", 0.5, func(p Percentiles) float64 { return p.P50 }},
		{"second node through Redis adds, p99", 2, func(p Percentiles) float64 { return p.P99 }},
	} {
		t = Target{Name: c.name, Want: fmt.Sprintf("≤ %g ms", c.want), Status: NA, Note: "run --mode cluster"}
		if rep.CrossNode != nil && rep.CrossNode.Delay.Count > 0 {
			got := c.get(rep.CrossNode.Delay)
			t.Got = fmt.Sprintf("%.2f ms (%d events)", got, rep.CrossNode.Delay.Count)
			t.Status, t.Note = judge(got <= c.want), ""
		}
		ts = append(ts, t)
	}
	return ts
}

// WriteTable prints the report for people.
func (rep *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Frontdesk bench: %s; %gs measured after %gs warm-up\n", describeLoad(rep), rep.DurationSeconds, rep.WarmupSeconds)
	fmt.Fprintf(&b, "%s, %d CPUs (%s), %d MB, %s/%s kernel %s, %s\n",
		rep.Started.Format("2006-01-02 15:04 MST"), m.CPUs, m.CPUModel, m.MemoryMB, m.OS, m.Arch, m.Kernel, m.GoVersion)
	if len(rep.NodeSettings) > 0 {
		fmt.Fprintf(&b, "node settings: %s\n", strings.Join(rep.NodeSettings, " "))
	}
	b.WriteString("\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fd, fl := rep.Frontdesk, rep.Floor
	row := func(name string, f func(*Side) string, ratio string) {
		cells := []string{name, f(fd)}
		if fl != nil {
			cells = append(cells, f(fl), ratio)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	head := []string{"", "frontdesk"}
	if fl != nil {
		head = append(head, "floor", "ratio")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	r := rep.Ratios
	if r == nil {
		r = &Ratios{}
	}
	x := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f×", v)
	}
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	row("visitor messages/s", func(s *Side) string { return fmt.Sprintf("%.0f", s.MessagesPerSecond) }, "")
	row("messages in window", func(s *Side) string { return fmt.Sprint(s.Messages) }, "")
	row("bot reply p50 (ms)", func(s *Side) string { return f2(s.Reply.P50) }, x(r.ReplyP50))
	row("bot reply p90 (ms)", func(s *Side) string { return f2(s.Reply.P90) }, "")
	row("bot reply p99 (ms)", func(s *Side) string { return f2(s.Reply.P99) }, x(r.ReplyP99))
	row("bot reply max (ms)", func(s *Side) string { return f2(s.Reply.Max) }, "")
	row("conversation start p50/p99 (ms)", func(s *Side) string { return f2(s.Start.P50) + " / " + f2(s.Start.P99) }, "")
	row("errors", func(s *Side) string { return errorSummary(s.Errors) }, "")
	if rep.Rate > 0 {
		row("late sends (>10 ms behind)", func(s *Side) string { return fmt.Sprint(s.LateSends) }, "")
	}
	row("server CPU-s / 1000 messages", func(s *Side) string { return fmt.Sprintf("%.3f", s.ServerCPUPer1000) }, x(r.CPUPerMessage))
	row("server CPU-s in window", func(s *Side) string { return f2(s.ServerCPUSeconds) }, "")
	row("server RSS end / peak (MB)", func(s *Side) string {
		return fmt.Sprintf("%.1f / %.1f", float64(s.ServerRSSBytes)/1e6, float64(s.ServerPeakRSS)/1e6)
	}, "")
	row("idle socket memory (kB)", func(s *Side) string {
		if s.Idle.Opened == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f (%d)", s.Idle.BytesPerSocket/1000, s.Idle.Opened)
	}, x(r.IdleMemory))
	row("bench CPU-s in window", func(s *Side) string { return f2(s.ClientCPUSeconds) }, "")
	row("machine busy CPUs", func(s *Side) string { return fmt.Sprintf("%.2f of %d", s.MachineBusyCPUs, m.CPUs) }, "")
	row("  of which other processes", func(s *Side) string { return f2(s.OtherBusyCPUs) }, "")
	tw.Flush()

	if c := rep.CrossNode; c != nil {
		fmt.Fprintf(&b, "\ncross-node (observer on the other node − visitor's node, per bot event, %d events):\n", c.Delay.Count)
		fmt.Fprintf(&b, "  delay p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", c.Delay.P50, c.Delay.P90, c.Delay.P99, c.Delay.Max)
		fmt.Fprintf(&b, "  reply as seen on the other node: p50 %.2f ms, p99 %.2f ms (visitor's node: p50 %.2f ms, p99 %.2f ms)\n",
			c.ObserverReply.P50, c.ObserverReply.P99, fd.Reply.P50, fd.Reply.P99)
	}
	if p := rep.Pgbench; p != nil {
		if p.Error != "" {
			fmt.Fprintf(&b, "\npgbench: %s\n", p.Error)
		} else {
			fmt.Fprintf(&b, "\npgbench (single-row INSERT, %d clients, %ds): %.0f tps, latency average %.2f ms\n", p.Clients, p.Seconds, p.TPS, p.LatencyAvgMS)
		}
	}

	fmt.Fprintf(&b, "\nTargets\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, t := range rep.Targets {
		got := t.Got
		if got == "" {
			got = "-"
		}
		line := fmt.Sprintf("  [%s]\t%s\t%s\t%s", t.Status, t.Name, t.Want, got)
		if t.Note != "" {
			line += "\t(" + t.Note + ")"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "\nnote: %s", n)
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n")
	}
	if rep.Dir != "" {
		fmt.Fprintf(&b, "\nkept: %s (database file, server logs)\n", rep.Dir)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func errorSummary(e Errors) string {
	if e.Total() == 0 {
		return "0"
	}
	var parts []string
	add := func(name string, n int64) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
	}
	if e.Connect > 0 {
		var causes []string
		for _, c := range slices.Sorted(maps.Keys(e.ConnectCauses)) {
			causes = append(causes, fmt.Sprintf("%s: %d", c, e.ConnectCauses[c]))
		}
		parts = append(parts, fmt.Sprintf("connect %d [%s]", e.Connect, strings.Join(causes, ", ")))
	}
	add("timeout", e.Timeouts)
	add("unexpected", e.Unexpected)
	add("observer", e.Observer)
	for _, code := range slices.Sorted(maps.Keys(e.Frames)) {
		add(code, e.Frames[code])
	}
	return fmt.Sprintf("%d (%s)", e.Total(), strings.Join(parts, ", "))
}
