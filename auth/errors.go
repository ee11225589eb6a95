package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/storage"
)

// The errors of this package. Test them with errors.Is.
var (
	// ErrInvalidCredentials: the email and password do not match an
	// account. It is the same whether the email is unknown or the password
	// wrong, so a caller cannot learn which emails have accounts.
	ErrInvalidCredentials = errors.New("auth: invalid email or password")
	// ErrUnauthenticated: the session or token is unknown, expired or
	// revoked, or its user is gone.
	ErrUnauthenticated = errors.New("auth: not signed in")
	// ErrForbidden: the caller is signed in but may not do this.
	ErrForbidden = errors.New("auth: not allowed")
	// ErrInvalidEmail: not a plain email address.
	ErrInvalidEmail = errors.New("auth: invalid email address")
	// ErrAlreadySetUp: first-run setup was already done.
	ErrAlreadySetUp = errors.New("auth: this instance is already set up")
	// ErrOwnerDeactivation: the workspace's owner cannot be deactivated.
	// It wraps ErrForbidden.
	ErrOwnerDeactivation = fmt.Errorf("%w: the owner cannot be deactivated", ErrForbidden)
	// ErrSelfDeactivation: nobody may deactivate themselves (an admin
	// would lock themselves out with no way back). It wraps ErrForbidden.
	ErrSelfDeactivation = fmt.Errorf("%w: you cannot deactivate yourself", ErrForbidden)
)

// RateLimitedError is returned when an attempt is over a rate limit.
type RateLimitedError struct {
	// RetryAfter is how long until another attempt may be allowed.
	RetryAfter time.Duration
}

// Error describes the limit.
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("auth: too many attempts; retry in %s", e.RetryAfter.Round(time.Second))
}

// AmbiguousError is returned by Login when the email and password match
// accounts in several workspaces and no workspace was named. It is only
// returned after the password verified, so it reveals nothing to a caller
// who does not know the password.
type AmbiguousError struct {
	// Workspaces are the ones the credentials match, oldest first.
	Workspaces []storage.Workspace
}

// Error describes the choice to make.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("auth: these credentials match %d workspaces; name one", len(e.Workspaces))
}
