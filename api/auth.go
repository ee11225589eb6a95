package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/auth"
)

// SessionCookie is the name of the HttpOnly session cookie.
const SessionCookie = "fd_session"

// CSRFHeader carries a session's CSRF token on unsafe requests.
const CSRFHeader = "X-CSRF-Token"

// Authenticator resolves the caller of a request from its credentials. It
// returns a *Problem on failure: 401 for missing, unknown, expired or
// revoked credentials, 403 with code "csrf" for a session caller whose
// unsafe request lacks the right CSRF token. It must be safe for concurrent
// use.
type Authenticator interface {
	Authenticate(ctx context.Context, c Credentials) (*Principal, error)
}

// Credentials are what a request presents. At most one of SessionToken and
// BearerToken is set: a request with an Authorization header is judged by
// it alone.
type Credentials struct {
	SessionToken, CSRFToken, BearerToken, Method string
}

// authenticate resolves the caller through Deps.Auth. Without one every
// non-public route is refused: closed by default.
func (s *Server) authenticate(ctx huma.Context) (*Principal, error) {
	if s.deps.Auth == nil {
		return nil, errSignIn
	}
	c := Credentials{Method: ctx.Method(), CSRFToken: ctx.Header(CSRFHeader)}
	if h := ctx.Header("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, problem(http.StatusUnauthorized, "unauthorized", "the Authorization header must be \"Bearer <API token>\"")
		}
		c.BearerToken = token
	} else if ck, err := huma.ReadCookie(ctx, SessionCookie); err == nil {
		c.SessionToken = ck.Value
	}
	if c.SessionToken == "" && c.BearerToken == "" {
		return nil, errSignIn
	}
	p, err := s.deps.Auth.Authenticate(ctx.Context(), c)
	if err != nil {
		var pr *Problem
		if errors.As(err, &pr) {
			return nil, pr
		}
		s.deps.Logger.Error("authenticate", "err", err)
		return nil, problem(http.StatusInternalServerError, "internal", "internal error")
	}
	if p == nil || p.WorkspaceID == "" {
		// A principal without a tenant would scope nothing.
		return nil, errSignIn
	}
	return p, nil
}

var errSignIn = problem(http.StatusUnauthorized, "unauthorized", "sign in first")

// NewAuthenticator returns the Authenticator for Deps.Auth: sessions and API
// tokens checked by svc, with the CSRF check for session callers.
func NewAuthenticator(svc *auth.Service) Authenticator {
	return &serviceAuthenticator{svc: svc}
}

type serviceAuthenticator struct{ svc *auth.Service }

// Authenticate implements Authenticator.
func (a *serviceAuthenticator) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	var (
		caller *auth.Caller
		err    error
	)
	switch {
	case c.BearerToken != "":
		// A bearer token cannot be sent by a browser on its own, so it
		// needs no CSRF token.
		caller, err = a.svc.TokenCaller(ctx, c.BearerToken)
	case c.SessionToken != "":
		caller, err = a.svc.SessionCaller(ctx, c.SessionToken)
		if err == nil && !safeMethod(c.Method) && !auth.EqualTokens(c.CSRFToken, caller.Session.CSRFToken) {
			return nil, problem(http.StatusForbidden, "csrf", "missing or wrong "+CSRFHeader+" header")
		}
	default:
		return nil, errSignIn
	}
	if err != nil {
		return nil, authError(err)
	}
	return principalOf(caller), nil
}

// safeMethod reports whether a method only reads (RFC 9110 9.2.1); every
// other method needs the CSRF token.
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func principalOf(c *auth.Caller) *Principal {
	p := &Principal{
		WorkspaceID:      c.User.WorkspaceID,
		UserID:           c.User.ID,
		Name:             c.User.Name,
		Email:            c.User.Email,
		Role:             string(c.User.Role),
		ManageAssistants: c.User.ManageAssistants,
	}
	if c.Session != nil {
		p.SessionID = c.Session.ID
	}
	if c.APIToken != nil {
		p.TokenID = c.APIToken.ID
	}
	return p
}
