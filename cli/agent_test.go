package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

// The live chat, end to end: agents who signed in for real, on their
// console sockets and the inbox REST routes, and visitors on the widget
// socket, on SQLite and on Postgres.

func TestAgentsRaceToClaimAChat(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		ben := n.member(t, tn.ws, "Ben", storage.RoleAgent)
		ann.socket()
		ben.socket()

		wins := map[string]int{}
		for round := range 6 {
			v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
			v.until("You're in the queue")
			id := v.welcome.ConversationID

			type outcome struct {
				who    *consoleMember
				status int
				body   map[string]any
			}
			results := make([]outcome, 2)
			var start, done sync.WaitGroup
			start.Add(1)
			for i, m := range []*consoleMember{ann, ben} {
				done.Add(1)
				go func() {
					defer done.Done()
					start.Wait()
					status, body := m.call(http.MethodPost, "/api/v1/conversations/"+id+"/claim", nil)
					results[i] = outcome{m, status, body}
				}()
			}
			start.Done()
			done.Wait()

			sort.Slice(results, func(i, j int) bool { return results[i].status < results[j].status })
			require.Equal(t, http.StatusOK, results[0].status, "round %d: %v", round, results)
			require.Equal(t, http.StatusConflict, results[1].status, "round %d: %v", round, results)
			require.Equal(t, "already_claimed", results[1].body["code"], "the loser is told why")
			winner := results[0].who
			wins[winner.name]++
			require.Equal(t, winner.id, results[0].body["assignee_id"])

			conv, err := n.srv.Store.GetConversation(context.Background(), tn.ws, id)
			require.NoError(t, err)
			require.Equal(t, storage.StatusAssigned, conv.Status)
			require.Equal(t, winner.id, conv.AssigneeID, "the database agrees with the 200")
			v.until(winner.name + " joined the chat.")
		}
		t.Logf("wins: %v", wins)
	})
}

func TestAgentsSeeOnlyTheirOwnChats(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		ben := n.member(t, tn.ws, "Ben", storage.RoleAgent)
		boss := n.member(t, tn.ws, "Boss", storage.RoleAdmin)
		annWS := ann.socket()
		benWS := ben.socket()

		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("You're in the queue")
		x := v.welcome.ConversationID
		// Both see it arrive in the queue, with a notification.
		benWS.nextWhere("the queued chat", frame("inbox", "handover_requested", x))
		benWS.nextWhere("its notification", frame("notification", "new_unassigned", x))
		annWS.nextWhere("its notification", frame("notification", "new_unassigned", x))
		require.Contains(t, ben.folder("unassigned"), x)
		benWS.flush()

		ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/claim", nil, http.StatusOK)
		annWS.nextWhere("the assignment", frame("notification", "assigned_to_you", x))

		// Lists.
		require.NotContains(t, ben.folder("unassigned"), x)
		require.NotContains(t, ben.folder("mine"), x)
		require.NotContains(t, ben.folder("closed"), x)
		require.Contains(t, ann.folder("mine"), x)
		require.Contains(t, boss.folder("all"), x, "admins see every chat")
		p := ben.must(http.MethodGet, "/api/v1/inbox?folder=all", nil, http.StatusForbidden)
		require.Equal(t, "forbidden", p["code"])
		// Reads and actions: another agent's chat does not exist for Ben.
		require.Equal(t, "not_found", ben.must(http.MethodGet, "/api/v1/conversations/"+x, nil, http.StatusNotFound)["code"])
		ben.must(http.MethodPost, "/api/v1/conversations/"+x+"/messages", map[string]any{"text": "hi"}, http.StatusNotFound)
		// A claim of it is the race Ben lost: he saw the chat in the queue.
		require.Equal(t, "already_claimed", ben.must(http.MethodPost, "/api/v1/conversations/"+x+"/claim", nil, http.StatusConflict)["code"])
		ann.must(http.MethodGet, "/api/v1/conversations/"+x, nil, http.StatusOK)
		boss.must(http.MethodGet, "/api/v1/conversations/"+x, nil, http.StatusOK)

		// Websocket: Ben cannot watch it; Ann can, and gets the visitor's
		// messages with a notification.
		benWS.send(map[string]any{"type": "watch", "conversation_id": x})
		e := benWS.next("error")
		require.Equal(t, "not_found", e["code"])
		annWS.send(map[string]any{"type": "watch", "conversation_id": x})
		w := annWS.nextWhere("watched", frame("watched", "", x))
		require.Equal(t, "assigned", w["status"])
		v.say("v1", "Is anyone there?")
		v.next("ack")
		annWS.nextWhere("the visitor's message", func(f map[string]any) bool {
			m, _ := f["message"].(map[string]any)
			return f["type"] == "event" && f["conversation_id"] == x && m["text"] == "Is anyone there?"
		})
		annWS.nextWhere("its notification", frame("notification", "new_message", x))
		ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/messages", map[string]any{"text": "Ann here!"}, http.StatusOK)
		annWS.send(map[string]any{"type": "typing", "conversation_id": x, "on": true})
		v.next("typing")

		// Ann closes it: from then on Ben may read it.
		ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/close", nil, http.StatusOK)
		closed := benWS.nextWhere("the close", frame("inbox", "conversation_updated", x))
		require.Equal(t, "closed", closed["status"])
		for _, f := range benWS.backlog {
			if f["conversation_id"] == x {
				require.Equal(t, "hidden", f["type"], "Ben got a frame about Ann's chat: %v", f)
			}
		}
		ben.must(http.MethodGet, "/api/v1/conversations/"+x, nil, http.StatusOK)
		require.Contains(t, ben.folder("closed"), x)
		benWS.send(map[string]any{"type": "watch", "conversation_id": x})
		benWS.nextWhere("watched", frame("watched", "", x))

		// A closed chat takes no more messages from the agent.
		p = ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/messages", map[string]any{"text": "one more thing"}, http.StatusConflict)
		require.Equal(t, "conversation_closed", p["code"])
	})
}

func TestTakeoverSilencesTheBotAndHandBackResumesAtTheChosenNode(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		annWS := ann.socket()

		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("Looking for the right plan")
		x := v.welcome.ConversationID
		require.Contains(t, ann.folder("bot"), x, "chats with the bot are listed, and watchable")
		annWS.send(map[string]any{"type": "watch", "conversation_id": x})
		annWS.nextWhere("watched", frame("watched", "", x))

		out := ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/takeover", nil, http.StatusOK)
		require.Equal(t, "assigned", out["status"])
		v.until("Ann joined the chat.")

		// The visitor's answers no longer drive the bot.
		for i, text := range []string{"Get a quote", "25", "hello bot?"} {
			v.say(fmt.Sprintf("t%d", i), text)
			require.Equal(t, fmt.Sprintf("t%d", i), v.next("ack")["client_id"])
		}
		ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/messages", map[string]any{"client_id": "a1", "text": "Hi, Ann here. How can I help?"}, http.StatusOK)
		msg, before := awaitMessage(v, "the agent's message", func(m map[string]any) bool { return m["author"] == "agent" })
		require.Equal(t, "Hi, Ann here. How can I help?", msg["text"])
		require.Equal(t, "Ann", msg["author_name"], "the visitor sees the agent's name")
		for _, m := range before {
			require.NotEqual(t, "bot", m["author"], "the bot spoke after the takeover: %v", m)
		}
		// The agent's console got the same event on the watch.
		annWS.nextWhere("the agent's message", func(f map[string]any) bool {
			m, _ := f["message"].(map[string]any)
			return f["type"] == "event" && m["author"] == "agent" && m["author_name"] == "Ann"
		})

		// Hand back to the pricing node: the visitor gets its message.
		out = ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/handback", map[string]any{"node": "pricing"}, http.StatusOK)
		require.Equal(t, "bot", out["status"])
		v.until("Our plans start at $29 per month")
		// And the bot is back in charge.
		v.say("b1", "Talk to sales")
		v.next("ack")
		v.until("Let me connect you with our sales team")

		// A node the version does not have is refused, naming the field.
		y := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		y.until("Looking for the right plan")
		ann.must(http.MethodPost, "/api/v1/conversations/"+y.welcome.ConversationID+"/takeover", nil, http.StatusOK)
		p := ann.must(http.MethodPost, "/api/v1/conversations/"+y.welcome.ConversationID+"/handback", map[string]any{"node": "nowhere"}, http.StatusUnprocessableEntity)
		require.Equal(t, "body.node", p["errors"].([]any)[0].(map[string]any)["location"])
	})
}

func TestClaimingDuringTheHandoverWaitCancelsTheTimer(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		annWS := ann.socket()
		ctx := context.Background()

		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("You're in the queue")
		x := v.welcome.ConversationID
		timers, err := n.srv.Store.ListTimers(ctx, tn.ws, x)
		require.NoError(t, err)
		require.NotEmpty(t, timers, "the handover waits on a timer")
		annWS.nextWhere("the queued chat", frame("notification", "new_unassigned", x))

		ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/claim", nil, http.StatusOK)
		joined, _ := awaitMessage(v, "the join notice", func(m map[string]any) bool { return m["author"] == "system" })
		require.Equal(t, "Ann joined the chat.", joined["text"], "the visitor is told, with the agent's name")
		timers, err = n.srv.Store.ListTimers(ctx, tn.ws, x)
		require.NoError(t, err)
		require.Empty(t, timers, "the claim cancelled the handover's timer")

		update := annWS.nextWhere("the assignment", func(f map[string]any) bool {
			return frame("inbox", "conversation_updated", x)(f) && f["status"] == "assigned"
		})
		require.Equal(t, ann.id, update["assignee_id"])
		v.say("v1", "Hello Ann")
		v.next("ack")
		ann.must(http.MethodPost, "/api/v1/conversations/"+x+"/messages", map[string]any{"text": "Hello!"}, http.StatusOK)
		msg, before := awaitMessage(v, "Ann's reply", func(m map[string]any) bool { return m["author"] == "agent" })
		require.Equal(t, "Ann", msg["author_name"])
		for _, m := range before {
			require.NotContains(t, m["text"], "isn't available", "the offline path ran after the claim")
		}
	})
}

func TestPresenceDrivesTheHandover(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		const grace = 2 * time.Second
		n := startAgentNode(t, dbURL, grace)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		status := func() string {
			return ann.must(http.MethodGet, "/api/v1/presence", nil, http.StatusOK)["status"].(string)
		}

		// Nobody online: the handover takes the offline path at once.
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("Our team isn't available right now")
		v.until("What's your name?")
		require.Equal(t, "offline", status())

		// Ann opens the console: she is online, and visitors queue.
		s := ann.socket()
		require.Equal(t, "online", s.hello["presence"])
		require.Equal(t, "online", status())
		v = connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("You're in the queue")

		// Away does not take handovers either.
		s.send(map[string]any{"type": "presence", "status": "away"})
		require.Equal(t, "away", s.next("presence")["status"])
		v = connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("Our team isn't available right now")
		s.send(map[string]any{"type": "presence", "status": "online"})
		s.next("presence")

		// The socket drops: she stays online through the grace period (a
		// reload), then goes offline.
		dropped := time.Now()
		require.NoError(t, s.conn.Close())
		require.Equal(t, "online", status())
		require.Eventually(t, func() bool { return status() == "offline" }, grace+5*time.Second, 50*time.Millisecond)
		require.GreaterOrEqual(t, time.Since(dropped), grace-100*time.Millisecond, "offline before the grace period ended")
		v = connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("Our team isn't available right now")

		// Reconnecting within the grace keeps her status.
		s = ann.socket()
		s.send(map[string]any{"type": "presence", "status": "away"})
		s.next("presence")
		require.NoError(t, s.conn.Close())
		time.Sleep(200 * time.Millisecond)
		s = ann.socket()
		require.Equal(t, "away", s.hello["presence"], "a reload keeps the status the agent chose")
		require.Equal(t, 1, n.presence.Sockets(tn.ws, ann.id))
	})
}

func TestAgentSocketRefusesAForeignOrigin(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)

		for _, tc := range []struct {
			cookie, origin string
			status         int
			code           string
		}{
			{ann.cookie, "https://evil.example", http.StatusForbidden, "forbidden"},
			{ann.cookie, shopOrigin, http.StatusForbidden, "forbidden"}, // the widget's page is not the console
			{ann.cookie, "", http.StatusForbidden, "forbidden"},
			{"", n.base, http.StatusUnauthorized, "unauthorized"},
			{"not-a-session", n.base, http.StatusUnauthorized, "unauthorized"},
		} {
			conn, res, err := dialConsole(n.base, tc.cookie, tc.origin)
			if conn != nil {
				conn.Close()
			}
			require.ErrorIs(t, err, websocket.ErrBadHandshake, "%+v", tc)
			require.Equal(t, tc.status, res.StatusCode, "%+v", tc)
			require.Contains(t, res.Header.Get("Content-Type"), "application/problem+json")
			raw, _ := io.ReadAll(res.Body)
			var p map[string]any
			require.NoError(t, json.Unmarshal(raw, &p))
			require.Equal(t, tc.code, p["code"], "%+v", tc)
		}
		require.Zero(t, n.presence.Sockets(tn.ws, ann.id), "a refused socket never made the agent present")

		// Signing out ends the socket's right to exist: new ones are refused.
		s := ann.socket()
		require.Equal(t, ann.id, s.hello["user_id"])
		ann.must(http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent)
		conn, res, err := dialConsole(n.base, ann.cookie, n.base)
		if conn != nil {
			conn.Close()
		}
		require.ErrorIs(t, err, websocket.ErrBadHandshake)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})
}

func TestAgentNotificationsFollowTheSettings(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		boss := n.member(t, tn.ws, "Boss", storage.RoleAdmin)
		annWS := ann.socket()

		settings := ann.must(http.MethodGet, "/api/v1/me/notifications", nil, http.StatusOK)
		require.Equal(t, true, settings["notify_human_request"])

		// A visitor asks for a human (a global rule of the template).
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("Looking for the right plan")
		v.say("h1", "Can I talk to a human please?")
		v.until("Let me connect you with our sales team")
		x := v.welcome.ConversationID
		req := annWS.nextWhere("the handover", frame("inbox", "handover_requested", x))
		require.True(t, strings.HasPrefix(req["summary"].(map[string]any)["reason"].(string), "rule:"))
		note := annWS.nextWhere("the notification", frame("notification", "", x))
		require.Equal(t, "asks_for_human", note["kind"])

		// Reassigned by an admin: "assigned to you".
		boss.must(http.MethodPost, "/api/v1/conversations/"+x+"/reassign", map[string]any{"assignee_id": ann.id}, http.StatusOK)
		annWS.nextWhere("the assignment", frame("notification", "assigned_to_you", x))

		// Ann turns "asks for a human" off: the next one is a plain new chat.
		ann.must(http.MethodPut, "/api/v1/me/notifications", map[string]any{
			"notify_new_unassigned": true, "notify_assigned": true, "notify_new_message": false, "notify_human_request": false,
		}, http.StatusOK)
		y := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		y.until("Looking for the right plan")
		y.say("h1", "I want a human")
		y.until("Let me connect you with our sales team")
		note = annWS.nextWhere("the notification", frame("notification", "", y.welcome.ConversationID))
		require.Equal(t, "new_unassigned", note["kind"])

		// New messages in her chat no longer notify her, but still arrive.
		v.say("h2", "Hello?")
		v.next("ack")
		annWS.nextWhere("the visitor's message", frame("inbox", "visitor_message", x))
		for _, f := range annWS.flush() {
			require.False(t, f["type"] == "notification" && f["conversation_id"] == x, "notified against the settings: %v", f)
		}
	})
}

// TestAgentSocketSurvivesTheRuntimesRealPublishers runs the agent socket
// against chat.Service's own publishing (not hand-made events): a typing
// indicator from the visitor reaches the watching agent with the chat's id.
func TestAgentSocketRelaysTheVisitorsTyping(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startAgentNode(t, dbURL, time.Minute)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		ann := n.member(t, tn.ws, "Ann", storage.RoleAgent)
		annWS := ann.socket()
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("You're in the queue")
		x := v.welcome.ConversationID
		annWS.send(map[string]any{"type": "watch", "conversation_id": x})
		annWS.nextWhere("watched", frame("watched", "", x))
		v.send(wire.EncodeClient(&wire.ClientTyping{On: true}))
		ty := annWS.nextWhere("the visitor typing", frame("typing", "", x))
		require.Equal(t, "visitor", ty["author"])
		require.Equal(t, true, ty["on"])
		require.Equal(t, chat.Online, n.presence.Status(tn.ws, ann.id))
	})
}
