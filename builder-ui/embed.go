// Package builderui holds the built admin app and visitor widget of
// builder-ui (dist/, made by `make ui-build`), embedded in the binary so
// that `go run ./cmd/frontdesk` serves them with no Node.js and no
// front-end server. Package web serves them.
package builderui

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist returns the built files, rooted at dist/: widget.js (the loader),
// widget/frame.html and widget/assets/ (the chat frame), app/index.html and
// app/assets/ (the admin app).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub cannot fail on it
	}
	return sub
}
