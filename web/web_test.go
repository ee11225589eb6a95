package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	builderui "github.com/frontdesk/frontdesk/builder-ui"
)

// The widget's size budget, gzipped (builder-ui/scripts/size.mjs checks
// the same at build time).
const (
	loaderBudget = 5 * 1024
	frameBudget  = 60 * 1024
)

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

var assetRef = regexp.MustCompile(`(?:src|href)="/((?:widget|app)/assets/[^"]+)"`)

// refs returns the assets an HTML file of the bundle loads; each must exist.
func refs(t *testing.T, dist fs.FS, page string) []string {
	t.Helper()
	html, err := fs.ReadFile(dist, page)
	if err != nil {
		t.Fatalf("the bundle has no %s (run make ui-build): %v", page, err)
	}
	var out []string
	for _, m := range assetRef.FindAllStringSubmatch(string(html), -1) {
		if _, err := fs.Stat(dist, m[1]); err != nil {
			t.Errorf("%s loads /%s, which the bundle lacks", page, m[1])
		}
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Errorf("%s loads no script: is it the built file?", page)
	}
	return out
}

func TestEmbeddedBundle(t *testing.T) {
	dist := builderui.Dist()
	for _, name := range []string{"widget.js", "widget/frame.html", "app/index.html"} {
		if _, err := fs.Stat(dist, name); err != nil {
			t.Errorf("the embedded bundle lacks %s (run make ui-build): %v", name, err)
		}
	}
	refs(t, dist, "widget/frame.html")
	refs(t, dist, "app/index.html")
	// The frame runs under script-src 'self': no inline script.
	html, _ := fs.ReadFile(dist, "widget/frame.html")
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).Match(html) {
		t.Error("widget/frame.html has an inline script, which its CSP refuses")
	}
}

func TestWidgetSizeBudget(t *testing.T) {
	dist := builderui.Dist()
	loader, err := fs.ReadFile(dist, "widget.js")
	if err != nil {
		t.Fatal(err)
	}
	if n := gzipSize(t, loader); n > loaderBudget {
		t.Errorf("widget.js is %d bytes gzipped; the budget is %d", n, loaderBudget)
	} else {
		t.Logf("widget.js: %d bytes gzipped (budget %d)", n, loaderBudget)
	}
	// The chat frame: its page and everything under widget/assets.
	total := 0
	err = fs.WalkDir(dist, "widget", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dist, p)
		if err != nil {
			return err
		}
		total += gzipSize(t, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > frameBudget {
		t.Errorf("the chat frame is %d bytes gzipped; the budget is %d", total, frameBudget)
	} else {
		t.Logf("chat frame: %d bytes gzipped (budget %d)", total, frameBudget)
	}
}

func newApp(t *testing.T, demo *Demo) *fiber.App {
	t.Helper()
	app := fiber.New()
	Mount(app, demo)
	return app
}

func get(t *testing.T, app *fiber.App, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestFrameIsLockedToTheHostOrigin(t *testing.T) {
	app := newApp(t, nil)
	res, body := get(t, app, "/widget/frame.html?key=pk_abc&origin=https%3A%2F%2FShop.Example%3A8443")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "/widget/assets/") {
		t.Fatalf("status %d, body %q", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "object-src 'none'", "frame-ancestors https://shop.example:8443"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	if !strings.HasSuffix(csp, "frame-ancestors https://shop.example:8443") {
		t.Errorf("CSP %q: frame-ancestors must name exactly the host origin", csp)
	}
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}

	// Anything but a plain origin could widen or break the policy.
	for _, bad := range []string{
		"", "null", "*", "javascript:alert(1)", "https://a.example/path", "https://a.example;script-src *",
		"https://a.example https://b.example", "https://a.example,https://b.example", "ftp://a.example", "https://", "https://a.example:99999",
		"https://user@a.example", "https://a.example\r\nX: y",
	} {
		res, _ := get(t, app, "/widget/frame.html?key=pk_abc&origin="+urlQuery(bad))
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("origin %q: status %d, want 400", bad, res.StatusCode)
		}
		if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "a.example") || strings.Contains(csp, "'self'") {
			t.Errorf("origin %q made it into the CSP %q", bad, csp)
		}
	}
	for _, badKey := range []string{"", "pk<script>", strings.Repeat("k", 129)} {
		if res, _ := get(t, app, "/widget/frame.html?origin=https://a.example&key="+urlQuery(badKey)); res.StatusCode != http.StatusBadRequest {
			t.Errorf("key %q: status %d, want 400", badKey, res.StatusCode)
		}
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20", ";", "%3B", "\r", "%0D", "\n", "%0A", "<", "%3C", ">", "%3E")
	return r.Replace(s)
}

func TestLoaderAndAssets(t *testing.T) {
	app := newApp(t, nil)
	res, body := get(t, app, "/widget.js")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "data-channel") {
		t.Fatalf("widget.js: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("widget.js without nosniff")
	}
	// gzip when asked, and 304 on a matching ETag.
	res, _ = get(t, app, "/widget.js", "Accept-Encoding", "gzip, br")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Error("widget.js not gzipped for a client that accepts it")
	}
	if res, _ = get(t, app, "/widget.js", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("a matching ETag: status %d, want 304", res.StatusCode)
	}
	for _, a := range refs(t, builderui.Dist(), "widget/frame.html") {
		res, _ := get(t, app, "/"+a)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("/%s: %d %q", a, res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
	if res, _ := get(t, app, "/widget/assets/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: status %d", res.StatusCode)
	}
}

func TestAppRoutesToItsIndex(t *testing.T) {
	app := newApp(t, nil)
	if res, _ := get(t, app, "/app"); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/app/" {
		t.Errorf("/app: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, p := range []string{"/app/", "/app/login", "/app/assistants/a1/builder", "/app/inbox/mine/cv_1"} {
		res, body := get(t, app, p)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<div id="root">`) {
			t.Errorf("%s: %d", p, res.StatusCode)
			continue
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: index cached as %q", p, res.Header.Get("Cache-Control"))
		}
	}
	for _, a := range refs(t, builderui.Dist(), "app/index.html") {
		if res, _ := get(t, app, "/"+a); res.StatusCode != http.StatusOK {
			t.Errorf("/%s: %d", a, res.StatusCode)
		}
	}
	if res, _ := get(t, app, "/app/assets/missing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a missing app asset answers %d, not 404", res.StatusCode)
	}
}

func TestDemoPage(t *testing.T) {
	app := newApp(t, &Demo{PublicURL: "http://127.0.0.1:8080", ChannelKey: "pk_demo", Assistant: "<Ava>", Email: "a@b.test"})
	res, body := get(t, app, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("demo page: %d", res.StatusCode)
	}
	for _, want := range []string{`<script src="http://127.0.0.1:8080/widget.js" data-channel="pk_demo" async></script>`, "&lt;Ava&gt;", `href="/app/"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the demo page lacks %q", want)
		}
	}
	if res, _ := get(t, newApp(t, nil), "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("without the demo, / answers %d", res.StatusCode)
	}
}
