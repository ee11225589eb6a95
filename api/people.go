package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// PeopleRoutes are the team (members and their roles) and API tokens of the
// caller's workspace. Every query is scoped by the caller's workspace, so
// another tenant's ids answer 404.
type PeopleRoutes struct {
	Service *auth.Service
	Store   *storage.Store
	// Presence, when set, is the agents' presence table (the server's
	// chat.GracefulPresence): a deactivated member is set offline in it at
	// once, so the handover node stops counting them. Without it they go
	// offline when their agent socket, whose session was revoked, is
	// closed (within a minute) and its grace period ends.
	Presence chat.PresenceTable
}

var _ Routes = (*PeopleRoutes)(nil)

// NewPeopleRoutes returns the team and token routes on svc and store.
func NewPeopleRoutes(svc *auth.Service, store *storage.Store) *PeopleRoutes {
	return &PeopleRoutes{Service: svc, Store: store}
}

type peopleListInput struct {
	Limit int `query:"limit" minimum:"0" maximum:"500" doc:"Page size; 0 means 50."`
}

type peopleListOutput struct {
	Body struct {
		Users []memberBody `json:"users"`
	}
}

// peopleCreateBody has no workspace_id, id or owner role: the workspace is
// the caller's, and there is one owner, made at setup. Unknown fields are
// refused (422), so a body cannot smuggle them in.
type peopleCreateBody struct {
	Email            string `json:"email" minLength:"3" maxLength:"254" format:"email"`
	Name             string `json:"name,omitempty" maxLength:"200"`
	Role             string `json:"role" enum:"agent,admin"`
	ManageAssistants bool   `json:"manage_assistants,omitempty" doc:"Lets an agent build and publish assistants."`
	Password         string `json:"password" minLength:"1" maxLength:"256" doc:"The initial password: at least 10 characters, at most 256 bytes, not the email."`
}

type peopleCreateInput struct {
	Body peopleCreateBody
}

type peopleMemberOutput struct {
	Body memberBody
}

// peopleUpdateBody changes only what it names. The owner role cannot be
// granted, and unknown fields (workspace_id, id, email) are refused.
type peopleUpdateBody struct {
	Name             *string `json:"name,omitempty" maxLength:"200"`
	Role             *string `json:"role,omitempty" enum:"agent,admin"`
	ManageAssistants *bool   `json:"manage_assistants,omitempty"`
	Active           *bool   `json:"active,omitempty" doc:"false deactivates the member: their sessions and API tokens are revoked at once and they cannot sign in; chats assigned to them stay assigned until reassigned. true reactivates them (their old sessions and tokens stay revoked). The owner cannot be deactivated, nor can you deactivate yourself."`
}

type peopleUpdateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body peopleUpdateBody
}

type tokenCreateBody struct {
	Name string `json:"name" minLength:"1" maxLength:"200" doc:"What the token is for, e.g. \"CRM sync\"."`
}

type tokenCreateInput struct {
	Body tokenCreateBody
}

type tokenBody struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id" doc:"The member the token acts as, with that member's current role."`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" doc:"Approximate, to the minute."`
}

func tokenOf(t storage.APIToken) tokenBody {
	return tokenBody{ID: t.ID, Name: t.Name, UserID: t.UserID, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
}

// tokenCreatedBody repeats tokenBody's fields rather than embedding it:
// huma's $schema transformer copies only exported fields, so an embedded
// unexported struct would vanish from the response.
type tokenCreatedBody struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id" doc:"The member the token acts as, with that member's current role."`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Token      string     `json:"token" doc:"The token, shown only in this response. Send it as \"Authorization: Bearer <token>\"."`
}

type tokenCreatedOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         tokenCreatedBody
}

type tokenListOutput struct {
	Body struct {
		Tokens []tokenBody `json:"tokens"`
	}
}

type tokenIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

// Register implements Routes.
func (r *PeopleRoutes) Register(api huma.API) {
	huma.Register(api, Operation("list-users", http.MethodGet, "/api/v1/users", "List the team", AccessAgent, "people"), r.listUsers)

	op := Operation("create-user", http.MethodPost, "/api/v1/users", "Add a member", AccessAdmin, "people")
	op.Description = "Adds an agent or admin with an initial password. The owner role cannot be granted."
	op.DefaultStatus = http.StatusCreated
	op.Errors = append(op.Errors, http.StatusConflict, http.StatusUnprocessableEntity)
	huma.Register(api, op, r.createUser)

	op = Operation("update-user", http.MethodPatch, "/api/v1/users/{id}", "Change a member", AccessAdmin, "people")
	op.Description = "Changes a member's name, role (agent or admin) or permission to build assistants, or deactivates or reactivates them (`active`). " +
		"Only the owner may change the owner, and the owner's role cannot be changed. " +
		"Deactivating revokes every session and API token of the member, so their next request gets 401, and refuses their sign-in like a wrong password; " +
		"the chats assigned to them stay assigned until an admin reassigns them. " +
		"The owner cannot be deactivated (403 `owner_cannot_be_deactivated`), nor can the caller deactivate themselves (403 `cannot_deactivate_self`)."
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusUnprocessableEntity)
	huma.Register(api, op, r.updateUser)

	op = Operation("create-token", http.MethodPost, "/api/v1/tokens", "Create an API token", AccessAdmin, "people")
	op.Description = "Creates a token acting as the caller. The token is in this response only; it is stored hashed."
	op.DefaultStatus = http.StatusCreated
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity)
	huma.Register(api, op, r.createToken)

	huma.Register(api, Operation("list-tokens", http.MethodGet, "/api/v1/tokens", "List API tokens", AccessAdmin, "people"), r.listTokens)

	op = Operation("delete-token", http.MethodDelete, "/api/v1/tokens/{id}", "Revoke an API token", AccessAdmin, "people")
	op.DefaultStatus = http.StatusNoContent
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.deleteToken)
}

func (r *PeopleRoutes) listUsers(ctx context.Context, in *peopleListInput) (*peopleListOutput, error) {
	p := PrincipalFrom(ctx)
	users, err := r.Store.ListUsers(ctx, p.WorkspaceID, in.Limit)
	if err != nil {
		return nil, storeError(err, "users")
	}
	out := &peopleListOutput{}
	out.Body.Users = make([]memberBody, 0, len(users))
	for _, u := range users {
		out.Body.Users = append(out.Body.Users, memberOf(u))
	}
	return out, nil
}

func (r *PeopleRoutes) createUser(ctx context.Context, in *peopleCreateInput) (*peopleMemberOutput, error) {
	p := PrincipalFrom(ctx)
	u, err := r.Service.CreateMember(ctx, p.WorkspaceID, auth.NewMember{
		Email: in.Body.Email, Name: in.Body.Name, Role: storage.Role(in.Body.Role),
		ManageAssistants: in.Body.ManageAssistants, Password: in.Body.Password,
	})
	switch {
	case errors.Is(err, auth.ErrInvalidEmail):
		return nil, invalid("the email is not accepted", fieldError("body.email", "not a plain email address", in.Body.Email))
	case errors.Is(err, auth.ErrWeakPassword):
		return nil, invalid("the password is not accepted", fieldError("body.password", authMessage(err), nil))
	case errors.Is(err, storage.ErrDuplicate):
		return nil, problem(http.StatusConflict, "duplicate", "a member with this email already exists")
	case err != nil:
		return nil, authError(err)
	}
	return &peopleMemberOutput{Body: memberOf(*u)}, nil
}

func (r *PeopleRoutes) updateUser(ctx context.Context, in *peopleUpdateInput) (*peopleMemberOutput, error) {
	p := PrincipalFrom(ctx)
	actor, err := r.Store.GetUser(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		return nil, storeError(err, "user")
	}
	upd := auth.MemberUpdate{Name: in.Body.Name, ManageAssistants: in.Body.ManageAssistants, Active: in.Body.Active}
	if in.Body.Role != nil {
		role := storage.Role(*in.Body.Role)
		upd.Role = &role
	}
	u, err := r.Service.UpdateMember(ctx, *actor, in.ID, upd)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, notFound("user")
	case errors.Is(err, auth.ErrOwnerDeactivation):
		return nil, problem(http.StatusForbidden, "owner_cannot_be_deactivated", "the owner cannot be deactivated",
			fieldError("body.active", "the owner cannot be deactivated", false))
	case errors.Is(err, auth.ErrSelfDeactivation):
		return nil, problem(http.StatusForbidden, "cannot_deactivate_self", "you cannot deactivate yourself; ask another admin or the owner",
			fieldError("body.active", "you cannot deactivate yourself", false))
	case err != nil:
		return nil, authError(err)
	}
	if !u.Active() && r.Presence != nil {
		r.Presence.Set(u.WorkspaceID, u.ID, chat.Offline)
	}
	return &peopleMemberOutput{Body: memberOf(*u)}, nil
}

func (r *PeopleRoutes) createToken(ctx context.Context, in *tokenCreateInput) (*tokenCreatedOutput, error) {
	p := PrincipalFrom(ctx)
	token, rec, err := r.Service.CreateAPIToken(ctx, p.WorkspaceID, p.UserID, in.Body.Name)
	if err != nil {
		return nil, storeError(err, "token")
	}
	t := tokenOf(*rec)
	return &tokenCreatedOutput{CacheControl: "no-store", Body: tokenCreatedBody{
		ID: t.ID, Name: t.Name, UserID: t.UserID, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, Token: token,
	}}, nil
}

func (r *PeopleRoutes) listTokens(ctx context.Context, _ *struct{}) (*tokenListOutput, error) {
	p := PrincipalFrom(ctx)
	toks, err := r.Store.ListAPITokens(ctx, p.WorkspaceID, storage.MaxListLimit)
	if err != nil {
		return nil, storeError(err, "tokens")
	}
	out := &tokenListOutput{}
	out.Body.Tokens = make([]tokenBody, 0, len(toks))
	for _, t := range toks {
		out.Body.Tokens = append(out.Body.Tokens, tokenOf(t))
	}
	return out, nil
}

func (r *PeopleRoutes) deleteToken(ctx context.Context, in *tokenIDInput) (*struct{}, error) {
	p := PrincipalFrom(ctx)
	if err := r.Store.RevokeAPIToken(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "token")
	}
	return nil, nil
}
