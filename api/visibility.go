package api

import "github.com/frontdesk/frontdesk/storage"

// CanSee reports whether p may see a conversation: admins see all; an agent
// sees the queue, the bot's chats, their own, and closed ones, but never a
// chat assigned to another agent. A conversation p may not see is answered
// as not found, so its existence is not revealed.
func CanSee(p *Principal, c *storage.Conversation) bool {
	if p == nil || c == nil || c.WorkspaceID != p.WorkspaceID {
		return false
	}
	if p.IsAdmin() {
		return true
	}
	if c.Preview {
		// Preview chats belong to the admin who opened them.
		return false
	}
	return c.AssigneeID == "" || c.AssigneeID == p.UserID || c.Status == storage.StatusClosed
}
