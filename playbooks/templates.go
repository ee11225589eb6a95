package playbooks

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// templateFS holds the template playbooks. Only the files directly under
// templates/ are embedded: the golden transcripts in templates/testdata are
// tests, not templates.
//
//go:embed templates/*.json
var templateFS embed.FS

// TemplateNames lists the template playbooks by name ("live-chat", ...),
// sorted.
func TemplateNames() []string {
	entries, _ := fs.ReadDir(templateFS, "templates")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// TemplateSource returns the file of the template playbook name, as shipped.
func TemplateSource(name string) ([]byte, error) {
	return templateFS.ReadFile(path.Join("templates", name+".json"))
}

// Template decodes the template playbook name.
func Template(name string) (*File, error) {
	data, err := TemplateSource(name)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}
