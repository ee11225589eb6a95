package api

import (
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// Problem is the one error shape of the API: RFC 9457 problem details
// (application/problem+json) with a stable machine-readable code and, for
// bad input, one entry per faulty field.
type Problem struct {
	Type     string `json:"type,omitempty" doc:"A URI reference identifying the problem type."`
	Title    string `json:"title,omitempty" doc:"A short summary of the problem type."`
	Status   int    `json:"status,omitempty" doc:"The HTTP status code."`
	Detail   string `json:"detail,omitempty" doc:"What went wrong in this occurrence."`
	Instance string `json:"instance,omitempty" doc:"A URI reference identifying this occurrence."`
	// Code is stable and machine-readable: not_found, conflict, invalid,
	// unauthorized, forbidden, rate_limited, too_large, internal, ...
	Code string `json:"code,omitempty" doc:"A stable machine-readable error code."`
	// Errors names each faulty field (location such as body.name).
	Errors []*huma.ErrorDetail `json:"errors,omitempty" doc:"Field-level errors."`
	// Current carries the current state on a conflict, such as the
	// draft's current revision.
	Current any `json:"current,omitempty" doc:"The current state on a conflict."`
	// Diagnostics lists every check finding when a graph is refused.
	Diagnostics []engine.Diagnostic `json:"diagnostics,omitempty" doc:"Every error and warning of the graph checks, with positions."`
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}

func init() {
	// Every error huma makes (validation, body too large, unknown route)
	// takes the Problem shape, so clients parse one format.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg, Code: codeForStatus(status)}
		for _, err := range errs {
			if err == nil {
				continue
			}
			var d huma.ErrorDetailer
			if errors.As(err, &d) {
				p.Errors = append(p.Errors, d.ErrorDetail())
			} else {
				p.Errors = append(p.Errors, &huma.ErrorDetail{Message: err.Error()})
			}
		}
		return p
	}
}

// problem builds a Problem with a code.
func problem(status int, code, detail string, fields ...*huma.ErrorDetail) *Problem {
	return &Problem{Status: status, Title: http.StatusText(status), Code: code, Detail: detail, Errors: fields}
}

// fieldError names one faulty field, such as "body.name".
func fieldError(location, message string, value any) *huma.ErrorDetail {
	return &huma.ErrorDetail{Location: location, Message: message, Value: value}
}

// invalid is a 422 naming the faulty fields.
func invalid(detail string, fields ...*huma.ErrorDetail) *Problem {
	return problem(http.StatusUnprocessableEntity, "invalid", detail, fields...)
}

// notFound hides whether something exists: another tenant's id, or a
// conversation the caller may not see, is simply not found.
func notFound(what string) *Problem {
	return problem(http.StatusNotFound, "not_found", what+" not found")
}

// storeError maps storage sentinels to problems in one place.
func storeError(err error, what string) error {
	var ce *storage.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return notFound(what)
	case errors.As(err, &ce):
		p := problem(http.StatusConflict, "conflict", ce.Error())
		p.Current = map[string]any{"version": ce.Current}
		return p
	case errors.Is(err, storage.ErrConflict):
		return problem(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, storage.ErrDuplicate):
		return problem(http.StatusConflict, "duplicate", what+" already exists")
	case errors.Is(err, storage.ErrInvalid):
		return invalid(err.Error())
	case errors.Is(err, storage.ErrBusy), errors.Is(err, storage.ErrUnavailable):
		return problem(http.StatusServiceUnavailable, "unavailable", "the database is busy or unavailable; retry")
	}
	return problem(http.StatusInternalServerError, "internal", "internal error")
}
