package playbooks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

// bigFile builds a file of n message nodes in a chain, each with texts of
// textLen bytes in two languages: the shape of a large real playbook.
func bigFile(n, textLen int) *File {
	f := &File{Name: "big", Graph: engine.Graph{Languages: []string{"fr"}, Start: "n0"}}
	text := strings.Repeat("x", textLen)
	for i := 0; i < n; i++ {
		f.Nodes = append(f.Nodes, engine.Node{ID: fmt.Sprintf("n%d", i), Kind: engine.KindMessage, Label: "step",
			Position: &engine.Position{X: float64(i), Y: 1.5},
			Message:  &engine.MessageConfig{Text: engine.Text{"en": text, "fr": text}}})
		if i > 0 {
			f.Edges = append(f.Edges, engine.Edge{ID: fmt.Sprintf("e%d", i), From: fmt.Sprintf("n%d", i-1), To: fmt.Sprintf("n%d", i),
				Condition: "agents.online >= 0"})
		}
	}
	f.Nodes = append(f.Nodes, engine.Node{ID: "end", Kind: engine.KindEnd})
	f.Edges = append(f.Edges, engine.Edge{ID: "last", From: fmt.Sprintf("n%d", n-1), To: "end"})
	return f
}

func BenchmarkDecode(b *testing.B) {
	for _, size := range []struct {
		name    string
		n, text int
	}{{"template", 0, 0}, {"2000 nodes", 2000, 100}, {"near 4 MiB", 1700, 1000}} {
		var data []byte
		if size.n == 0 {
			data, _ = TemplateSource("lead-qualification")
		} else {
			var err error
			data, err = Encode(bigFile(size.n, size.text))
			require.NoError(b, err)
			require.Less(b, len(data), MaxFileSize)
		}
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	data, err := Encode(bigFile(2000, 100))
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := Validate(data); err != nil {
			b.Fatal(err)
		}
	}
}
