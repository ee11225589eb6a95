package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// TestTenantIsolation calls every workspace-scoped method with another
// workspace's id (ErrNotFound, and nothing changes) and with an empty one
// (ErrInvalid, never all workspaces).
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s) // the victim
		b := setup(t, s) // the other tenant
		victim := a.user(t, "victim@a.test")
		conv := a.conversation(t, storage.StatusUnassigned)
		msg, _, err := s.AppendMessage(ctx, a.ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorVisitor, Body: "secret"})
		require.NoError(t, err)
		timer, err := s.SetTimer(ctx, a.ws, storage.NewTimer{ConversationID: conv.ID, Name: "wait", FireAt: t0})
		require.NoError(t, err)
		lead, err := s.CreateLead(ctx, a.ws, storage.NewLead{ConversationID: conv.ID, Kind: storage.KindLead})
		require.NoError(t, err)
		out, err := s.InsertOutbox(ctx, a.ws, storage.NewOutboxEntry{EventType: "e", Payload: storage.JSON(`{}`)})
		require.NoError(t, err)
		_, err = s.AppendEvent(ctx, a.ws, storage.NewEvent{ConversationID: conv.ID, Type: "t"})
		require.NoError(t, err)

		// Each call reads or changes one of a's rows, scoped to ws.
		calls := map[string]func(ws string) error{
			"GetWorkspace":   func(ws string) error { _, err := s.GetWorkspace(ctx, ws); return err },
			"GetUser":        func(ws string) error { _, err := s.GetUser(ctx, ws, victim.ID); return err },
			"GetUserByEmail": func(ws string) error { _, err := s.GetUserByEmail(ctx, ws, victim.Email); return err },
			"UpdateUserPassword": func(ws string) error {
				return s.UpdateUserPassword(ctx, ws, victim.ID, "pwned")
			},
			"GetChannel":          func(ws string) error { _, err := s.GetChannel(ctx, ws, a.channel.ID); return err },
			"DisconnectAssistant": func(ws string) error { return s.DisconnectAssistant(ctx, ws, a.channel.ID) },
			"ConnectAssistant": func(ws string) error {
				return s.ConnectAssistant(ctx, ws, a.channel.ID, a.assistant.ID)
			},
			"GetAssistant":    func(ws string) error { _, err := s.GetAssistant(ctx, ws, a.assistant.ID); return err },
			"RenameAssistant": func(ws string) error { return s.RenameAssistant(ctx, ws, a.assistant.ID, "pwned") },
			"UpdateAssistantSettings": func(ws string) error {
				return s.UpdateAssistantSettings(ctx, ws, a.assistant.ID, storage.AssistantSettings{DefaultLanguage: "xx"})
			},
			"DeleteAssistant": func(ws string) error { return s.DeleteAssistant(ctx, ws, a.assistant.ID) },
			"GetDraft":        func(ws string) error { _, err := s.GetDraft(ctx, ws, a.assistant.ID); return err },
			"SaveDraft": func(ws string) error {
				_, err := s.SaveDraft(ctx, ws, a.assistant.ID, 0, storage.JSON(`{"pwned":1}`), "")
				return err
			},
			"PublishVersion": func(ws string) error {
				_, err := s.PublishVersion(ctx, ws, a.assistant.ID, storage.JSON(`{"pwned":1}`), "")
				return err
			},
			"ListVersions": func(ws string) error { _, err := s.ListVersions(ctx, ws, a.assistant.ID, 0); return err },
			"GetVersion":   func(ws string) error { _, err := s.GetVersion(ctx, ws, a.version.ID); return err },
			"GetVersionByNumber": func(ws string) error {
				_, err := s.GetVersionByNumber(ctx, ws, a.assistant.ID, 1)
				return err
			},
			"LatestVersion":   func(ws string) error { _, err := s.LatestVersion(ctx, ws, a.assistant.ID); return err },
			"GetConversation": func(ws string) error { _, err := s.GetConversation(ctx, ws, conv.ID); return err },
			"GetConversationForUpdate": func(ws string) error {
				return s.InTx(ctx, func(tx *storage.Store) error {
					_, err := tx.GetConversationForUpdate(ctx, ws, conv.ID)
					return err
				})
			},
			"UpdateConversationState": func(ws string) error {
				_, err := s.UpdateConversationState(ctx, ws, conv.ID, conv.Version, storage.JSON(`{"pwned":1}`))
				return err
			},
			"SetConversationStatus": func(ws string) error {
				_, err := s.SetConversationStatus(ctx, ws, conv.ID, conv.Version, storage.StatusClosed, "")
				return err
			},
			"ClaimConversation": func(ws string) error {
				_, err := s.ClaimConversation(ctx, ws, conv.ID, b.agent.ID)
				return err
			},
			"AppendMessage": func(ws string) error {
				_, _, err := s.AppendMessage(ctx, ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorAgent, Body: "pwned"})
				return err
			},
			"ListMessages": func(ws string) error { _, err := s.ListMessages(ctx, ws, conv.ID, 0); return err },
			"ListMessagesAfter": func(ws string) error {
				_, err := s.ListMessagesAfter(ctx, ws, conv.ID, 0, 0)
				return err
			},
			"SetTimer": func(ws string) error {
				_, err := s.SetTimer(ctx, ws, storage.NewTimer{ConversationID: conv.ID, Name: "wait", FireAt: t0.Add(time.Hour)})
				return err
			},
			"ListTimers":  func(ws string) error { _, err := s.ListTimers(ctx, ws, conv.ID); return err },
			"FinishTimer": func(ws string) error { return s.FinishTimer(ctx, ws, timer.ID) },
			"CreateLead": func(ws string) error {
				_, err := s.CreateLead(ctx, ws, storage.NewLead{ConversationID: conv.ID, Kind: storage.KindLead})
				return err
			},
			"GetLead": func(ws string) error { _, err := s.GetLead(ctx, ws, lead.ID); return err },
			"ListLeads": func(ws string) error {
				_, err := s.ListLeads(ctx, ws, storage.LeadFilter{ConversationID: conv.ID})
				return err
			},
			"ListEvents": func(ws string) error {
				_, err := s.ListEvents(ctx, ws, storage.EventFilter{ConversationID: conv.ID})
				return err
			},
			"AppendEvent": func(ws string) error {
				_, err := s.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, Type: "forged"})
				return err
			},
			"MarkOutboxDelivered": func(ws string) error { return s.MarkOutboxDelivered(ctx, ws, out.ID) },
			"RescheduleOutbox": func(ws string) error {
				return s.RescheduleOutbox(ctx, ws, out.ID, t0, "x")
			},
			"DeadLetterOutbox": func(ws string) error { return s.DeadLetterOutbox(ctx, ws, out.ID, "x") },
		}
		for name, call := range calls {
			if name != "GetWorkspace" {
				require.ErrorIs(t, call(b.ws), storage.ErrNotFound, "%s with another workspace's id", name)
			}
			require.ErrorIs(t, call(""), storage.ErrInvalid, "%s with an empty workspace id", name)
		}

		// Lists scoped to the other workspace show none of a's rows.
		convs, err := s.ListConversations(ctx, b.ws, storage.ConversationFilter{IncludePreview: true})
		require.NoError(t, err)
		require.Empty(t, convs)
		leads, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{})
		require.NoError(t, err)
		require.Empty(t, leads)
		events, err := s.ListEvents(ctx, b.ws, storage.EventFilter{AssistantID: a.assistant.ID})
		require.NoError(t, err)
		require.Empty(t, events)
		outbox, err := s.ListOutbox(ctx, b.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		require.Empty(t, outbox)
		users, err := s.ListUsers(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Len(t, users, 2, "only b's own users")
		cancelled, err := s.CancelTimer(ctx, b.ws, conv.ID, "wait")
		require.NoError(t, err)
		require.False(t, cancelled)

		// Every list refuses an empty workspace id.
		for name, call := range map[string]func() error{
			"ListUsers":         func() error { _, err := s.ListUsers(ctx, "", 0); return err },
			"ListChannels":      func() error { _, err := s.ListChannels(ctx, "", 0); return err },
			"ListAssistants":    func() error { _, err := s.ListAssistants(ctx, "", 0); return err },
			"ListConversations": func() error { _, err := s.ListConversations(ctx, "", storage.ConversationFilter{}); return err },
			"ListLeads":         func() error { _, err := s.ListLeads(ctx, "", storage.LeadFilter{}); return err },
			"ListEvents":        func() error { _, err := s.ListEvents(ctx, "", storage.EventFilter{}); return err },
			"ListOutbox":        func() error { _, err := s.ListOutbox(ctx, "", storage.OutboxFilter{}); return err },
			"CancelTimer":       func() error { _, err := s.CancelTimer(ctx, "", conv.ID, "wait"); return err },
			"SetOutOfOffice":    func() error { return s.SetOutOfOffice(ctx, "", true) },
		} {
			require.ErrorIs(t, call(), storage.ErrInvalid, name)
		}

		// References across tenants are refused too.
		_, err = s.CreateConversation(ctx, b.ws, storage.NewConversation{ChannelID: a.channel.ID, VisitorID: "v"})
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's channel")
		_, err = s.CreateConversation(ctx, b.ws, storage.NewConversation{VersionID: a.version.ID, VisitorID: "v"})
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's version")
		require.ErrorIs(t, s.ConnectAssistant(ctx, b.ws, b.channel.ID, a.assistant.ID), storage.ErrNotFound)
		bConv := b.conversation(t, storage.StatusUnassigned)
		_, err = s.ClaimConversation(ctx, b.ws, bConv.ID, a.agent.ID)
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's agent")
		_, err = s.CreateLead(ctx, b.ws, storage.NewLead{ConversationID: conv.ID, Kind: storage.KindLead})
		require.ErrorIs(t, err, storage.ErrNotFound)

		// And nothing of a's changed.
		got, err := s.GetConversation(ctx, a.ws, conv.ID)
		require.NoError(t, err)
		require.Equal(t, conv.Version, got.Version)
		require.Equal(t, storage.StatusUnassigned, got.Status)
		require.Equal(t, int64(1), got.LastSeq)
		msgs, err := s.ListMessages(ctx, a.ws, conv.ID, 0)
		require.NoError(t, err)
		require.Equal(t, []string{msg.ID}, []string{msgs[0].ID})
		require.Len(t, msgs, 1)
		asst, err := s.GetAssistant(ctx, a.ws, a.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, "Helper", asst.Name)
		draft, err := s.GetDraft(ctx, a.ws, a.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), draft.Revision)
		ch, err := s.GetChannel(ctx, a.ws, a.channel.ID)
		require.NoError(t, err)
		require.Equal(t, a.assistant.ID, ch.AssistantID)
		user, err := s.GetUser(ctx, a.ws, victim.ID)
		require.NoError(t, err)
		require.Empty(t, user.PasswordHash)
		versions, err := s.ListVersions(ctx, a.ws, a.assistant.ID, 0)
		require.NoError(t, err)
		require.Len(t, versions, 1)
		timers, err := s.ListTimers(ctx, a.ws, conv.ID)
		require.NoError(t, err)
		require.Equal(t, timer.ID, timers[0].ID)
		entries, err := s.ListOutbox(ctx, a.ws, storage.OutboxFilter{Status: storage.OutboxPending})
		require.NoError(t, err)
		require.Len(t, entries, 1)
	})
}
