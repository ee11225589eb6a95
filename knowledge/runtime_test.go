package knowledge_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/knowledge"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// TestRuntimeAnswersFromTheKnowledgeBase runs the freelancer template's faq
// node through the real runtime: the question is stored and committed, the
// answerer runs after the commit, and its answer comes back as the bot's
// next message.
func TestRuntimeAnswersFromTheKnowledgeBase(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, "Acme")
	require.NoError(t, err)
	f, err := playbooks.Template("freelancer-assistant")
	require.NoError(t, err)
	graph, err := json.Marshal(f.Graph)
	require.NoError(t, err)
	a, err := s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Alex's helper", Graph: graph})
	require.NoError(t, err)
	_, err = s.PublishVersion(ctx, w.ID, a.ID, graph, "")
	require.NoError(t, err)
	ch, err := s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Site"})
	require.NoError(t, err)
	require.NoError(t, s.ConnectAssistant(ctx, w.ID, ch.ID, a.ID))
	ch, err = s.GetChannel(ctx, w.ID, ch.ID)
	require.NoError(t, err)
	raw, err := json.Marshal(webDesigner())
	require.NoError(t, err)
	_, err = s.SaveKnowledge(ctx, w.ID, a.ID, 0, raw, "")
	require.NoError(t, err)

	ans := knowledge.NewAnswerer(s, knowledge.Options{})
	t.Cleanup(ans.Close)
	svc := chat.New(chat.Config{Store: s, Answerer: ans})
	res, err := svc.Start(ctx, chat.StartInput{Channel: ch, VisitorID: "v1", IsNew: true, Locale: "en"})
	require.NoError(t, err)
	conv := res.Conversation.ID
	_, err = svc.VisitorMessage(ctx, w.ID, conv, "c1", "What's your pricing?")
	require.NoError(t, err)

	// The answer arrives after the commit, from the slow-work goroutine.
	want := webDesigner().FAQ[0].Answer
	require.Eventually(t, func() bool {
		msgs, err := s.ListMessages(ctx, w.ID, conv, 50)
		require.NoError(t, err)
		for _, m := range msgs {
			if m.Author == storage.AuthorBot && m.Body == want {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, svc.Wait(ctx))
}
