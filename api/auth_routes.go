package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/storage"
)

// AuthRoutes are sign-in, sign-out, the current caller, password change and
// first-run setup. Add it to Deps.Services, with NewAuthenticator on the
// same service as Deps.Auth.
type AuthRoutes struct {
	Service *auth.Service
	Store   *storage.Store
	// SecureCookie marks the session cookie Secure. NewAuthRoutes sets it
	// when the public URL is https.
	SecureCookie bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for rate limiting. Defaults to none: the socket's peer is
	// the client.
	TrustedProxies []netip.Prefix
}

var _ Routes = (*AuthRoutes)(nil)

// NewAuthRoutes returns the auth routes on svc and store, with a Secure
// cookie when publicURL (config.Config.PublicURL) is https, and no trusted
// proxies: set TrustedProxies on the result to believe a reverse proxy's
// X-Forwarded-For.
func NewAuthRoutes(svc *auth.Service, store *storage.Store, publicURL string) *AuthRoutes {
	return &AuthRoutes{Service: svc, Store: store, SecureCookie: isHTTPS(publicURL)}
}

// isHTTPS reports whether a URL's scheme is https (url.Parse lowercases
// the scheme).
func isHTTPS(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	return err == nil && u.Scheme == "https"
}

// memberBody is a person as the API shows them; never their password hash.
type memberBody struct {
	ID               string     `json:"id"`
	Email            string     `json:"email"`
	Name             string     `json:"name"`
	Role             string     `json:"role" enum:"owner,admin,agent"`
	ManageAssistants bool       `json:"manage_assistants" doc:"May build and publish assistants."`
	Active           bool       `json:"active" doc:"False once an admin deactivated the member: they cannot sign in, and their sessions and API tokens were revoked."`
	DeactivatedAt    *time.Time `json:"deactivated_at,omitempty" doc:"When the member was deactivated; absent while active."`
	CreatedAt        time.Time  `json:"created_at"`
}

func memberOf(u storage.User) memberBody {
	return memberBody{
		ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), ManageAssistants: u.ManageAssistants,
		Active: u.Active(), DeactivatedAt: u.DeactivatedAt, CreatedAt: u.CreatedAt,
	}
}

type authWorkspaceBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type authSessionBody struct {
	User      memberBody        `json:"user"`
	Workspace authWorkspaceBody `json:"workspace"`
	CSRFToken string            `json:"csrf_token,omitempty" doc:"Send it in the X-CSRF-Token header of every POST, PUT, PATCH and DELETE made with the session cookie. Absent for API token callers."`
	ExpiresAt *time.Time        `json:"expires_at,omitempty" doc:"When the session ends at the latest."`
}

type authSessionOutput struct {
	SetCookie    []http.Cookie `header:"Set-Cookie"`
	CacheControl string        `header:"Cache-Control"`
	Body         authSessionBody
}

type authLoginBody struct {
	Email       string `json:"email" minLength:"1" maxLength:"254" doc:"The account's email; case does not matter."`
	Password    string `json:"password" minLength:"1" maxLength:"256"`
	WorkspaceID string `json:"workspace_id,omitempty" maxLength:"64" doc:"Needed only when the email and password open accounts in several workspaces."`
}

type authLoginInput struct {
	Body authLoginBody
}

type authPasswordBody struct {
	CurrentPassword string `json:"current_password" minLength:"1" maxLength:"256"`
	NewPassword     string `json:"new_password" minLength:"1" maxLength:"256" doc:"At least 10 characters, at most 256 bytes, not the email."`
}

type authPasswordInput struct {
	Body authPasswordBody
}

type authSetupBody struct {
	WorkspaceName string `json:"workspace_name" minLength:"1" maxLength:"200"`
	Name          string `json:"name,omitempty" maxLength:"200" doc:"The owner's name; optional."`
	Email         string `json:"email" minLength:"1" maxLength:"254"`
	Password      string `json:"password" minLength:"1" maxLength:"256" doc:"At least 10 characters, at most 256 bytes, not the email."`
}

type authSetupInput struct {
	Body authSetupBody
}

type authLogoutOutput struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
}

// Register implements Routes.
func (r *AuthRoutes) Register(api huma.API) {
	withRequest := huma.Middlewares{authRequestMiddleware}

	op := Operation("login", http.MethodPost, "/api/v1/auth/login", "Sign in", AccessPublic, "auth")
	op.Description = "Checks the email and password and starts a new session: the fd_session cookie (HttpOnly, SameSite=Lax) and a CSRF token. " +
		"Attempts are limited per client address and per email (429 with Retry-After)."
	op.Errors = []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests}
	op.Middlewares = withRequest
	huma.Register(api, op, r.login)

	op = Operation("logout", http.MethodPost, "/api/v1/auth/logout", "Sign out", AccessAgent, "auth")
	op.Description = "Ends the current session and clears the cookie."
	op.DefaultStatus = http.StatusNoContent
	huma.Register(api, op, r.logout)

	op = Operation("me", http.MethodGet, "/api/v1/auth/me", "The caller", AccessAgent, "auth")
	op.Description = "Who is signed in, their workspace, and the session's CSRF token (the cookie is HttpOnly, so a reloaded page asks here)."
	huma.Register(api, op, r.me)

	op = Operation("change-password", http.MethodPost, "/api/v1/auth/password", "Change your password", AccessAgent, "auth")
	op.Description = "Checks the current password, stores the new one and ends every session of the user. A session caller gets a new session in the response."
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity, http.StatusTooManyRequests)
	huma.Register(api, op, r.changePassword)

	op = Operation("setup", http.MethodPost, "/api/v1/setup", "First-run setup", AccessPublic, "auth")
	op.Description = "Creates the first workspace and its owner, and signs the owner in. Only while no workspace exists; 409 afterwards."
	op.DefaultStatus = http.StatusCreated
	op.Errors = []int{http.StatusConflict, http.StatusUnprocessableEntity}
	op.Middlewares = withRequest
	huma.Register(api, op, r.setup)
}

func (r *AuthRoutes) login(ctx context.Context, in *authLoginInput) (*authSessionOutput, error) {
	req := authRequestFrom(ctx)
	signIn, err := r.Service.Login(ctx, auth.LoginInput{
		Email:         in.Body.Email,
		Password:      in.Body.Password,
		WorkspaceID:   in.Body.WorkspaceID,
		ClientIP:      auth.ClientIP(req.remoteAddr, req.forwardedFor, r.TrustedProxies),
		PreviousToken: req.sessionToken,
	})
	if err != nil {
		return nil, authError(err)
	}
	return r.sessionOutput(signIn), nil
}

func (r *AuthRoutes) logout(ctx context.Context, _ *struct{}) (*authLogoutOutput, error) {
	p := PrincipalFrom(ctx)
	if p.SessionID != "" {
		if err := r.Service.Logout(ctx, p.WorkspaceID, p.SessionID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, authError(err)
		}
	}
	return &authLogoutOutput{SetCookie: []http.Cookie{r.clearCookie()}}, nil
}

func (r *AuthRoutes) me(ctx context.Context, _ *struct{}) (*authSessionOutput, error) {
	p := PrincipalFrom(ctx)
	u, err := r.Store.GetUser(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		return nil, storeError(err, "user")
	}
	ws, err := r.Store.GetWorkspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, storeError(err, "workspace")
	}
	out := &authSessionOutput{CacheControl: "no-store", Body: authSessionBody{
		User: memberOf(*u), Workspace: authWorkspaceBody{ID: ws.ID, Name: ws.Name},
	}}
	if p.SessionID != "" {
		sess, err := r.Store.GetSessionByHash(ctx, p.SessionID)
		if err != nil {
			return nil, storeError(err, "session")
		}
		out.Body.CSRFToken = sess.CSRFToken
		exp := sess.ExpiresAt
		out.Body.ExpiresAt = &exp
	}
	return out, nil
}

func (r *AuthRoutes) changePassword(ctx context.Context, in *authPasswordInput) (*authSessionOutput, error) {
	p := PrincipalFrom(ctx)
	signIn, err := r.Service.ChangePassword(ctx, auth.ChangePasswordInput{
		WorkspaceID: p.WorkspaceID, UserID: p.UserID, SessionID: p.SessionID,
		Current: in.Body.CurrentPassword, New: in.Body.NewPassword,
	})
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return nil, invalid("the current password is wrong", fieldError("body.current_password", "wrong password", nil))
	case errors.Is(err, auth.ErrWeakPassword):
		return nil, invalid("the new password is not accepted", fieldError("body.new_password", authMessage(err), nil))
	case err != nil:
		return nil, authError(err)
	}
	if signIn != nil {
		return r.sessionOutput(signIn), nil
	}
	// An API token caller: no session to renew.
	return r.me(ctx, nil)
}

func (r *AuthRoutes) setup(ctx context.Context, in *authSetupInput) (*authSessionOutput, error) {
	signIn, err := r.Service.Setup(ctx, auth.SetupInput{
		WorkspaceName: in.Body.WorkspaceName, Name: in.Body.Name,
		Email: in.Body.Email, Password: in.Body.Password,
	})
	var fe *auth.SetupFieldError
	if errors.As(err, &fe) {
		return nil, invalid("the setup input is not accepted", fieldError("body."+fe.Field, authMessage(fe.Err), nil))
	}
	if err != nil {
		return nil, authError(err)
	}
	return r.sessionOutput(signIn), nil
}

// sessionOutput answers a new session: the cookie, and the CSRF token in
// the body for the page to keep.
func (r *AuthRoutes) sessionOutput(s *auth.SignIn) *authSessionOutput {
	exp := s.Session.ExpiresAt
	return &authSessionOutput{
		SetCookie:    []http.Cookie{r.sessionCookie(s.Token, exp)},
		CacheControl: "no-store",
		Body: authSessionBody{
			User:      memberOf(s.User),
			Workspace: authWorkspaceBody{ID: s.Workspace.ID, Name: s.Workspace.Name},
			CSRFToken: s.Session.CSRFToken,
			ExpiresAt: &exp,
		},
	}
}

// sessionCookie is HttpOnly so script cannot read it, and SameSite=Lax so
// other sites' forms do not carry it on POSTs; the CSRF header covers the
// rest.
func (r *AuthRoutes) sessionCookie(token string, expires time.Time) http.Cookie {
	return http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		Expires: expires.UTC(), MaxAge: int(r.Service.SessionMax().Seconds()),
		HttpOnly: true, Secure: r.SecureCookie, SameSite: http.SameSiteLaxMode,
	}
}

func (r *AuthRoutes) clearCookie() http.Cookie {
	return http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.SecureCookie, SameSite: http.SameSiteLaxMode,
	}
}

// authRequest is what the auth handlers need from the raw request, which
// huma does not hand to handlers.
type authRequest struct {
	// remoteAddr is the socket's peer, never a header.
	remoteAddr   string
	forwardedFor string
	sessionToken string
}

type authRequestKey struct{}

func authRequestMiddleware(ctx huma.Context, next func(huma.Context)) {
	req := authRequest{remoteAddr: ctx.RemoteAddr(), forwardedFor: ctx.Header("X-Forwarded-For")}
	if c, err := huma.ReadCookie(ctx, SessionCookie); err == nil {
		req.sessionToken = c.Value
	}
	next(huma.WithValue(ctx, authRequestKey{}, req))
}

func authRequestFrom(ctx context.Context) authRequest {
	r, _ := ctx.Value(authRequestKey{}).(authRequest)
	return r
}

// authError maps the auth package's errors, and storage's, to problems.
func authError(err error) error {
	var (
		limited   *auth.RateLimitedError
		ambiguous *auth.AmbiguousError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &limited):
		secs := max(1, int(math.Ceil(limited.RetryAfter.Seconds())))
		p := problem(http.StatusTooManyRequests, "rate_limited", "too many attempts; retry in "+strconv.Itoa(secs)+"s")
		return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {strconv.Itoa(secs)}})
	case errors.As(err, &ambiguous):
		choices := make([]authWorkspaceBody, 0, len(ambiguous.Workspaces))
		for _, w := range ambiguous.Workspaces {
			choices = append(choices, authWorkspaceBody{ID: w.ID, Name: w.Name})
		}
		return invalid("this email and password open accounts in several workspaces; choose one",
			fieldError("body.workspace_id", "required: choose one of the workspaces in value", choices))
	case errors.Is(err, auth.ErrInvalidCredentials):
		return problem(http.StatusUnauthorized, "invalid_credentials", "wrong email or password")
	case errors.Is(err, auth.ErrUnauthenticated):
		return problem(http.StatusUnauthorized, "unauthorized", "the session or token is unknown, expired or revoked; sign in again")
	case errors.Is(err, auth.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", authMessage(err))
	case errors.Is(err, auth.ErrAlreadySetUp):
		return problem(http.StatusConflict, "already_set_up", "this instance is already set up; sign in instead")
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, auth.ErrInvalidEmail):
		return invalid(authMessage(err))
	}
	return storeError(err, "resource")
}

// authMessage is an auth error's text without the package prefix, for
// problem details.
func authMessage(err error) string { return strings.TrimPrefix(err.Error(), "auth: ") }
