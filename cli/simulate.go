package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
)

const simulateHelp = `Type what the visitor says. Commands:
  /wait            fast-forward to the next timer (a handover wait, ...)
  /claim NAME      an agent claims the chat
  /takeover NAME   an agent takes over from the bot
  /release         the agent puts the chat back in the queue
  /handback [NODE] the agent hands back to the bot (at NODE)
  /agents N        N agents are online from now on
  /vars            print the variables
  /quit            stop
`

// Simulate chats with a playbook in the terminal: each line of stdin is
// what the visitor says (or a /command); the bot's messages and the node
// path are printed. Timers never wait: /wait fast-forwards them.
func Simulate(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	locale := fs.String("locale", "", "visitor locale, e.g. fr-FR (default: the playbook's default language)")
	agents := fs.Int("agents", 1, "agents online")
	returning := fs.Bool("returning", false, "the visitor was seen before")
	page := fs.String("page", "", "page URL the visitor is on")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "usage: frontdesk simulate [--locale fr] [--agents N] [--returning] FILE")
		return ExitUsage
	}
	name := fs.Arg(0)
	data, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitError
	}
	f, diags, err := playbooks.Validate(data)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s:%v\n", name, err)
		return ExitError
	}
	if playbooks.HasErrors(diags) {
		for _, d := range diags {
			fmt.Fprintf(env.Stderr, "%s:%s\n", name, d.String())
		}
		return ExitError
	}
	c, err := engine.Compile(&f.Graph, engine.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitError
	}
	s := playbooks.NewSession(c, playbooks.SessionConfig{
		Visitor:       engine.VisitorEnv{IsNew: !*returning, PageURL: *page},
		Locale:        *locale,
		AgentsOnline:  *agents,
		BusinessHours: true,
	})
	out := env.Stdout
	fmt.Fprintf(out, "Simulating %q (%s). /help lists the commands.\n", f.Name, name)
	turn, err := s.Start(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitError
	}
	printTurn(out, turn, s, nil)
	in := bufio.NewScanner(env.Stdin)
	in.Buffer(make([]byte, 0, 4096), engine.MaxVisitorText+1)
	for {
		if env.StdinIsTTY {
			fmt.Fprint(out, "you> ")
		}
		if !in.Scan() {
			break
		}
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		if !env.StdinIsTTY {
			fmt.Fprintf(out, "you> %s\n", line)
		}
		turn, err, quit := simulateLine(ctx, s, line, out)
		if quit {
			break
		}
		printTurn(out, turn, s, err)
	}
	if err := in.Err(); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(env.Stderr, "reading stdin: %v\n", err)
		return ExitError
	}
	return ExitOK
}

func simulateLine(ctx context.Context, s *playbooks.Session, line string, out io.Writer) (playbooks.Turn, error, bool) {
	if !strings.HasPrefix(line, "/") {
		t, err := s.Say(ctx, line)
		return t, err, false
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "/quit", "/exit":
		return playbooks.Turn{}, nil, true
	case "/help":
		fmt.Fprint(out, simulateHelp)
	case "/wait":
		t, err := s.FastForward(ctx)
		return t, err, false
	case "/claim":
		t, err := s.Claim(ctx, orDefault(arg, "Agent"))
		return t, err, false
	case "/takeover":
		t, err := s.TakeOver(ctx, orDefault(arg, "Agent"))
		return t, err, false
	case "/release":
		t, err := s.Release(ctx)
		return t, err, false
	case "/handback":
		t, err := s.HandBack(ctx, arg)
		return t, err, false
	case "/agents":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			fmt.Fprintln(out, "usage: /agents N")
			break
		}
		s.SetAgentsOnline(n)
		fmt.Fprintf(out, "  (%d agents online)\n", n)
	case "/vars":
		for k, v := range s.State().Vars {
			fmt.Fprintf(out, "  %s = %v\n", k, v)
		}
	default:
		fmt.Fprintf(out, "unknown command %s; /help lists them\n", cmd)
	}
	return playbooks.Turn{}, nil, false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// printTurn prints a turn, or the error of an action that did not apply
// (a /handback while the bot talks): the simulation goes on either way.
func printTurn(out io.Writer, t playbooks.Turn, s *playbooks.Session, err error) {
	if err != nil {
		fmt.Fprintf(out, "  ! %v\n", err)
		return
	}
	for _, m := range t.Messages {
		who := "bot"
		if m.Author == engine.AuthorSystem {
			who = "---"
		}
		fmt.Fprintf(out, "%s> %s\n", who, m.Text)
		if len(m.QuickReplies) > 0 {
			labels := make([]string, len(m.QuickReplies))
			for i, q := range m.QuickReplies {
				labels[i] = q.Label
			}
			fmt.Fprintf(out, "     [%s]\n", strings.Join(labels, " | "))
		}
	}
	for _, l := range t.Leads {
		fmt.Fprintf(out, "  * %s captured: %v\n", l.Kind, l.Fields)
	}
	for range t.Handovers {
		fmt.Fprintln(out, "  * handover requested: the chat waits for an agent (/claim NAME or /wait)")
	}
	if len(t.Path) > 0 {
		fmt.Fprintf(out, "  path: %s  (status %s)\n", strings.Join(t.Path, " -> "), s.State().Status)
	}
}
