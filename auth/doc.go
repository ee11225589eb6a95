// Package auth signs people in to the Frontdesk console and checks who is
// calling: argon2id password hashes, sessions and API tokens kept in
// storage, a login rate limiter, and the first-run setup.
//
// # Passwords
//
// Passwords are hashed with argon2id and stored in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so the parameters travel with each
// hash: raising them later still verifies old hashes, and Login rehashes
// them on the next successful sign-in. Hashing is memory-hard on purpose, so
// a Hasher runs a bounded number of hashes at once and callers queue.
//
// # Sessions and tokens
//
// A session or API token is 32 random bytes, base64url-encoded. Only its
// sha256 is stored (a session's id is that digest), so a copy of the
// database does not hold a usable credential. Sessions end after
// DefaultSessionIdle without activity, DefaultSessionMax after sign-in, at
// logout, or when the password changes. Every sign-in makes a new session:
// the id a browser held before signing in is never promoted.
//
// # Deactivated members
//
// An admin may deactivate a member (UpdateMember with Active false): their
// sessions and API tokens are revoked in the same transaction, Login
// answers them ErrInvalidCredentials as for a wrong password, and
// SessionCaller and TokenCaller refuse any credential of theirs. The owner
// cannot be deactivated, nor can anyone deactivate themselves.
//
// # Rate limits
//
// Login attempts are limited per client address and per email through the
// Limiter interface; MemoryLimiter is the single-node implementation and
// RedisLimiter the one a cluster shares. Both pass one test suite. The
// client address is the socket's peer unless that peer is a configured
// trusted proxy (see ClientIP), so a forged X-Forwarded-For header cannot
// buy more attempts.
//
// # Wiring
//
//	secret, err := auth.SigningSecret(ctx, store, cfg.Secret) // >= 32 bytes
//	svc := auth.NewService(store, auth.Options{Logger: log})   // + Limiter: auth.NewRedisLimiter(rdb, auth.RedisLimiterOptions{}) with Redis
//	go svc.RunCleanup(ctx, 0)                                  // deletes dead sessions hourly
//
// and, in package api, NewAuthenticator(svc) as Deps.Auth with
// NewAuthRoutes(svc, store, cfg.PublicURL) and NewPeopleRoutes(svc, store)
// among Deps.Services.
//
// # Errors
//
// Methods return this package's sentinels (ErrInvalidCredentials,
// ErrUnauthenticated, ErrForbidden and the ErrOwnerDeactivation and
// ErrSelfDeactivation that wrap it, ErrWeakPassword, ErrInvalidEmail,
// ErrAlreadySetUp), a *RateLimitedError or an *AmbiguousError, or a storage
// sentinel from package storage. The API maps them to problem details.
package auth
