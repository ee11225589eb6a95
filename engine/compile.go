package engine

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr/checker"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"
)

// Severity says whether a diagnostic blocks publishing.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic codes, stable for the API and the builder.
const (
	CodeInvalid            = "invalid"
	CodeLimit              = "limit"
	CodeDuplicateID        = "duplicate_id"
	CodeDanglingEdge       = "dangling_edge"
	CodeUnknownPort        = "unknown_port"
	CodeUnreachable        = "unreachable"
	CodeDeadEnd            = "dead_end"
	CodeUnreachableEdge    = "unreachable_edge"
	CodeConditionSyntax    = "condition_syntax"
	CodeConditionType      = "condition_type"
	CodeCycleWithoutInput  = "cycle_without_input"
	CodeMissingTranslation = "missing_translation"
	CodeHandoverNoTimeout  = "handover_no_timeout"
	CodeNoLoopBreaker      = "no_loop_breaker"
	CodeVariable           = "variable"
)

// Diagnostic is one finding of the checks. It names the node, edge or rule,
// the field inside it, and for expressions the 1-based line and column (and
// the rune range, for underlining).
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Node     string   `json:"node,omitempty"`
	Edge     string   `json:"edge,omitempty"`
	Rule     string   `json:"rule,omitempty"`
	Field    string   `json:"field,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	// Offset and End are the rune range of the fault in the expression.
	Offset int `json:"offset,omitempty"`
	End    int `json:"end,omitempty"`
}

// String formats the diagnostic as "node X, edge Y, field (line:col): message".
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(string(d.Severity))
	where := []string{}
	if d.Node != "" {
		where = append(where, "node "+d.Node)
	}
	if d.Edge != "" {
		where = append(where, "edge "+d.Edge)
	}
	if d.Rule != "" {
		where = append(where, "rule "+d.Rule)
	}
	if d.Field != "" {
		where = append(where, d.Field)
	}
	if len(where) > 0 {
		b.WriteString(" at ")
		b.WriteString(strings.Join(where, ", "))
	}
	if d.Line > 0 {
		fmt.Fprintf(&b, " (%d:%d)", d.Line, d.Column)
	}
	b.WriteString(": ")
	b.WriteString(d.Message)
	return b.String()
}

// CheckError is returned by Compile when a graph has errors. It holds every
// diagnostic, warnings included.
type CheckError struct {
	Diagnostics []Diagnostic
}

// Errors returns the error diagnostics only.
func (e *CheckError) Errors() []Diagnostic {
	var out []Diagnostic
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			out = append(out, d)
		}
	}
	return out
}

func (e *CheckError) Error() string {
	errs := e.Errors()
	if len(errs) == 1 {
		return "playbook check failed: " + errs[0].String()
	}
	return fmt.Sprintf("playbook check failed with %d errors; first: %s", len(errs), errs[0].String())
}

// Options tune Compile.
type Options struct {
	// Limits default to DefaultLimits.
	Limits Limits
}

// Compiled is a checked graph ready for Step. It is immutable and safe to
// share between goroutines: compile a version once, when it is published or
// loaded, and run every conversation of that version on it.
type Compiled struct {
	graph       Graph
	defaultLang string
	langs       []string
	nodes       []cnode
	index       map[string]int
	start       int
	rules       []cedge
	loopTo      int
	loopAt      int
	vars        map[string]VarType
	varNames    []string
	warnings    []Diagnostic
}

type cnode struct {
	n     *Node
	ports [][]cedge
	sets  []cassign
	// await: a greet or message node that waits for the visitor's reply.
	await bool
}

type cedge struct {
	id   string
	to   int
	prog *vm.Program
	// cond is true when the edge has a condition, even one that failed to
	// compile: the structural checks must not mistake it for a default.
	cond bool
}

type cassign struct {
	name string
	typ  VarType
	prog *vm.Program
}

// Graph returns the graph this was compiled from. Do not modify it.
func (c *Compiled) Graph() *Graph { return &c.graph }

// Warnings returns the warnings found while compiling.
func (c *Compiled) Warnings() []Diagnostic { return c.warnings }

// Variables returns every declared variable and its type.
func (c *Compiled) Variables() map[string]VarType { return c.vars }

// DefaultLanguage returns the graph's default language.
func (c *Compiled) DefaultLanguage() string { return c.defaultLang }

// Languages returns the supported languages, the default first.
func (c *Compiled) Languages() []string { return c.langs }

// HasNode reports whether the graph has a node with this id.
func (c *Compiled) HasNode(id string) bool { _, ok := c.index[id]; return ok }

// Check runs every check on g and returns all diagnostics, errors and
// warnings, in a stable order.
func Check(g *Graph, o Options) []Diagnostic {
	_, diags := compile(g, o)
	return diags
}

// Compile checks g and compiles its conditions. On any error it returns a
// *CheckError holding every diagnostic at once.
func Compile(g *Graph, o Options) (*Compiled, error) {
	c, diags := compile(g, o)
	for _, d := range diags {
		if d.Severity == SeverityError {
			return nil, &CheckError{Diagnostics: diags}
		}
	}
	c.warnings = diags
	return c, nil
}

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9_.:\-]+$`)
	varPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	langPattern = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)
)

// captureVars are the fields an offline_capture node may ask.
var captureVars = map[string]bool{"name": true, "email": true, "phone": true, "company": true, "note": true}

type compiler struct {
	g     *Graph
	lim   Limits
	c     *Compiled
	diags []Diagnostic
	// programs caches compiled conditions by source: the same text in
	// several edges compiles once.
	programs map[string]*vm.Program
	checkEnv any
	bySource map[string]*exprFault
	// checkConf and runConf hold the expr configurations for values [0]
	// and conditions [1]; checkConf is reset when checkEnv changes.
	checkConf, runConf [2]*conf.Config
}

func (k *compiler) errorf(d Diagnostic, format string, args ...any) {
	d.Severity = SeverityError
	d.Message = fmt.Sprintf(format, args...)
	k.diags = append(k.diags, d)
}

func (k *compiler) warnf(d Diagnostic, format string, args ...any) {
	d.Severity = SeverityWarning
	d.Message = fmt.Sprintf(format, args...)
	k.diags = append(k.diags, d)
}

func compile(g *Graph, o Options) (*Compiled, []Diagnostic) {
	lim := o.Limits.withDefaults()
	k := &compiler{g: g, lim: lim, programs: map[string]*vm.Program{}, bySource: map[string]*exprFault{}}
	// Refuse oversized graphs before doing any work proportional to them.
	if len(g.Nodes) > lim.MaxNodes {
		k.errorf(Diagnostic{Code: CodeLimit, Field: "nodes"}, "the graph has %d nodes; the limit is %d", len(g.Nodes), lim.MaxNodes)
		return nil, k.diags
	}
	if len(g.Edges) > lim.MaxEdges {
		k.errorf(Diagnostic{Code: CodeLimit, Field: "edges"}, "the graph has %d edges; the limit is %d", len(g.Edges), lim.MaxEdges)
		return nil, k.diags
	}
	if len(g.Rules) > lim.MaxRules {
		k.errorf(Diagnostic{Code: CodeLimit, Field: "global_rules"}, "the graph has %d global rules; the limit is %d", len(g.Rules), lim.MaxRules)
		return nil, k.diags
	}
	c := &Compiled{graph: *g, index: make(map[string]int, len(g.Nodes)), loopTo: -1, start: -1}
	k.c = c
	k.languages()
	k.indexNodes()
	k.declareVariables()
	k.checkEnv = typedEnv(c.vars, c.varNames)
	k.assignments()
	for i := range c.nodes {
		k.nodeConfig(i)
	}
	k.edges()
	k.rules()
	k.loopBreaker()
	k.deadEnds()
	k.reachability()
	k.cycles()
	sort.SliceStable(k.diags, func(i, j int) bool {
		a, b := k.diags[i], k.diags[j]
		if a.Severity != b.Severity {
			return a.Severity == SeverityError
		}
		return false
	})
	return c, k.diags
}

func (k *compiler) languages() {
	c, g := k.c, k.g
	c.defaultLang = g.DefaultLanguage
	if c.defaultLang == "" {
		c.defaultLang = "en"
	}
	if !langPattern.MatchString(c.defaultLang) {
		k.errorf(Diagnostic{Code: CodeInvalid, Field: "default_language"}, "%q is not a language code such as en or pt-br", c.defaultLang)
	}
	if len(g.Languages) > k.lim.MaxLanguages {
		k.errorf(Diagnostic{Code: CodeLimit, Field: "languages"}, "%d languages; the limit is %d", len(g.Languages), k.lim.MaxLanguages)
		return
	}
	c.langs = []string{c.defaultLang}
	seen := map[string]bool{c.defaultLang: true}
	for i, l := range g.Languages {
		if !langPattern.MatchString(l) {
			k.errorf(Diagnostic{Code: CodeInvalid, Field: fmt.Sprintf("languages[%d]", i)}, "%q is not a language code such as en or pt-br", l)
			continue
		}
		if !seen[l] {
			seen[l] = true
			c.langs = append(c.langs, l)
		}
	}
}

func (k *compiler) checkID(d Diagnostic, what, id string) bool {
	switch {
	case id == "":
		k.errorf(d, "%s id is empty", what)
	case len(id) > k.lim.MaxIDLength:
		k.errorf(d, "%s id is %d bytes long; the limit is %d", what, len(id), k.lim.MaxIDLength)
	case !idPattern.MatchString(id):
		k.errorf(d, "%s id %q may hold only letters, digits and _ . : -", what, id)
	default:
		return true
	}
	return false
}

func (k *compiler) indexNodes() {
	c, g := k.c, k.g
	c.nodes = make([]cnode, len(g.Nodes))
	for i := range g.Nodes {
		n := &c.graph.Nodes[i]
		c.nodes[i] = cnode{n: n, ports: make([][]cedge, len(Ports(n.Kind))), await: n.awaitsReply()}
		d := Diagnostic{Code: CodeInvalid, Node: n.ID, Field: fmt.Sprintf("nodes[%d].id", i)}
		if !k.checkID(d, "node", n.ID) {
			continue
		}
		if _, dup := c.index[n.ID]; dup {
			k.errorf(Diagnostic{Code: CodeDuplicateID, Node: n.ID, Field: fmt.Sprintf("nodes[%d].id", i)}, "node id %q is used twice", n.ID)
			continue
		}
		c.index[n.ID] = i
	}
	if g.Start == "" {
		k.errorf(Diagnostic{Code: CodeInvalid, Field: "start"}, "the start node is not set")
	} else if i, ok := c.index[g.Start]; ok {
		c.start = i
	} else {
		k.errorf(Diagnostic{Code: CodeDanglingEdge, Field: "start"}, "the start node %q does not exist", g.Start)
	}
}

// declare records a variable's type; the same variable with two types is an
// error.
func (k *compiler) declare(d Diagnostic, name string, t VarType) {
	if !varPattern.MatchString(name) || len(name) > k.lim.MaxIDLength {
		k.errorf(d, "variable name %q must be a letter or _ followed by letters, digits or _, at most %d bytes", name, k.lim.MaxIDLength)
		return
	}
	switch t {
	case VarString, VarNumber, VarBool:
	default:
		k.errorf(d, "variable %q has unknown type %q (string, number or bool)", name, t)
		return
	}
	if old, ok := k.c.vars[name]; ok {
		if old != t {
			k.errorf(d, "variable %q is a %s here but a %s elsewhere", name, t, old)
		}
		return
	}
	if len(k.c.vars) >= k.lim.MaxVariables {
		k.errorf(d, "more than %d variables", k.lim.MaxVariables)
		return
	}
	k.c.vars[name] = t
	k.c.varNames = append(k.c.varNames, name)
}

func fieldVarType(t FieldType) VarType {
	if t == FieldNumber {
		return VarNumber
	}
	return VarString
}

func (k *compiler) declareVariables() {
	c, g := k.c, k.g
	c.vars = map[string]VarType{}
	for i, v := range g.Variables {
		k.declare(Diagnostic{Code: CodeVariable, Field: fmt.Sprintf("variables[%d]", i)}, v.Name, v.Type)
	}
	for _, cn := range c.nodes {
		n := cn.n
		d := Diagnostic{Code: CodeVariable, Node: n.ID}
		switch {
		case n.Greet != nil && n.Greet.SaveAs != "":
			d.Field = "greet.save_as"
			k.declare(d, n.Greet.SaveAs, VarString)
		case n.Message != nil && n.Message.SaveAs != "":
			d.Field = "message.save_as"
			k.declare(d, n.Message.SaveAs, VarString)
		}
		if n.Collect != nil {
			for j, f := range n.Collect.Fields {
				d.Field = fmt.Sprintf("collect.fields[%d].var", j)
				k.declare(d, f.Var, fieldVarType(f.Type))
			}
		}
		if n.OfflineCapture != nil {
			for j, f := range n.OfflineCapture.Fields {
				d.Field = fmt.Sprintf("offline_capture.fields[%d].var", j)
				k.declare(d, f.Var, VarString)
			}
		}
		if n.HTTPCall != nil {
			for j, m := range n.HTTPCall.Map {
				d.Field = fmt.Sprintf("http_call.map[%d].var", j)
				t := m.Type
				if t == "" {
					t = VarString
				}
				k.declare(d, m.Var, t)
			}
		}
	}
	sort.Strings(c.varNames)
}

// exprConfig builds an expr configuration for env. Configurations are
// built once per graph and reused for every expression: expr caches the
// environment's types in them, which keeps compiling linear in graph size.
func (k *compiler) exprConfig(env any, want reflect.Kind) *conf.Config {
	cfg := conf.CreateNew()
	cfg.WithEnv(env)
	cfg.MaxNodes = uint(k.lim.MaxExprNodes)
	if want == reflect.Bool {
		cfg.Expect = reflect.Bool
	}
	cfg.Check()
	return cfg
}

func (k *compiler) configs(want reflect.Kind) (check, run *conf.Config) {
	i := 0
	if want == reflect.Bool {
		i = 1
	}
	if k.checkConf[i] == nil {
		k.checkConf[i] = k.exprConfig(k.checkEnv, want)
	}
	if k.runConf[i] == nil {
		k.runConf[i] = k.exprConfig(Env{}, want)
	}
	return k.checkConf[i], k.runConf[i]
}

// compileExpr runs the policy, type-checks src against the typed
// environment, and compiles it for the runtime environment. want is
// reflect.Bool for conditions, or reflect.Invalid for a value of any plain
// type. It returns the program and the value's type.
func (k *compiler) compileExpr(src string, want reflect.Kind) (*vm.Program, reflect.Type, *exprFault) {
	if _, fault := checkPolicy(src, k.lim); fault != nil {
		return nil, nil, fault
	}
	checkConf, runConf := k.configs(want)
	typed, err := checker.ParseCheck(src, checkConf)
	if err != nil {
		f := faultOf(err)
		if strings.Contains(f.msg, "expected bool") {
			f.msg = "the condition must be true or false; " + f.msg
		}
		return nil, nil, f
	}
	out := typed.Node.Type()
	if f := checkGrowth(typed.Node); f != nil {
		return nil, nil, f
	}
	tree, err := checker.ParseCheck(src, runConf)
	if err != nil {
		return nil, nil, faultOf(err)
	}
	if err := optimizer.Optimize(&tree.Node, runConf); err != nil {
		return nil, nil, faultOf(err)
	}
	prog, err := exprcompiler.Compile(tree, runConf)
	if err != nil {
		return nil, nil, faultOf(err)
	}
	return prog, out, nil
}

// condition compiles an edge or rule condition, reporting faults with their
// position. An empty condition is the default (nil program).
func (k *compiler) condition(d Diagnostic, src string) (*vm.Program, bool) {
	if src == "" {
		return nil, true
	}
	if p, ok := k.programs[src]; ok {
		return p, true
	}
	if f, bad := k.bySource[src]; bad {
		k.exprError(d, src, f)
		return nil, false
	}
	prog, _, f := k.compileExpr(src, reflect.Bool)
	if f != nil {
		k.bySource[src] = f
		k.exprError(d, src, f)
		return nil, false
	}
	k.programs[src] = prog
	return prog, true
}

var (
	noFieldPattern  = regexp.MustCompile(`type (.+) has no field (\w+)`)
	typeNamePattern = regexp.MustCompile(`struct \{[^}]*\}`)
)

// friendly rewrites expr's messages about the generated environment types
// into the names an admin wrote.
func friendly(msg string) string {
	if m := noFieldPattern.FindStringSubmatch(msg); m != nil {
		switch {
		case strings.HasPrefix(m[1], "struct {"):
			return "unknown variable vars." + m[2]
		case strings.HasSuffix(m[1], "VisitorEnv"):
			return "visitor has no field " + m[2] + " (is_new, language, page_url, referrer, identified)"
		case strings.HasSuffix(m[1], "MessageEnv"):
			return "message has no field " + m[2] + " (text, choice)"
		case strings.HasSuffix(m[1], "AgentsEnv"):
			return "agents has no field " + m[2] + " (online)"
		}
	}
	msg = typeNamePattern.ReplaceAllString(msg, "vars")
	return strings.NewReplacer("engine.VisitorEnv", "visitor", "engine.MessageEnv", "message", "engine.AgentsEnv", "agents").Replace(msg)
}

func (k *compiler) exprError(d Diagnostic, src string, f *exprFault) {
	f.msg = friendly(f.msg)
	d.Code = CodeConditionSyntax
	if strings.Contains(f.msg, "must be true or false") || strings.Contains(f.msg, "mismatched types") ||
		strings.Contains(f.msg, "invalid operation") || strings.Contains(f.msg, "unknown name") ||
		strings.Contains(f.msg, "unknown variable") || strings.Contains(f.msg, "has no field") ||
		strings.Contains(f.msg, "type ") {
		d.Code = CodeConditionType
	}
	d.Line, d.Column = position(src, f.from)
	d.Offset, d.End = f.from, f.to
	if d.End < d.Offset {
		d.End = d.Offset
	}
	k.errorf(d, "%s", f.msg)
}

// assignments compiles set_variable values. A value may read variables that
// other assignments set, so types are inferred in rounds until nothing more
// can be typed; what is left is reported with its last error.
func (k *compiler) assignments() {
	type pending struct {
		node, idx int
		a         Assignment
		fault     *exprFault
	}
	var todo []pending
	for i, cn := range k.c.nodes {
		if cn.n.Kind != KindSetVariable || cn.n.SetVariable == nil {
			continue
		}
		k.c.nodes[i].sets = make([]cassign, len(cn.n.SetVariable.Assignments))
		for j, a := range cn.n.SetVariable.Assignments {
			todo = append(todo, pending{node: i, idx: j, a: a})
		}
	}
	for len(todo) > 0 {
		progress := false
		left := todo[:0]
		for _, p := range todo {
			d := Diagnostic{Code: CodeVariable, Node: k.c.nodes[p.node].n.ID, Field: fmt.Sprintf("set_variable.assignments[%d].value", p.idx)}
			if !varPattern.MatchString(p.a.Var) {
				d.Field = fmt.Sprintf("set_variable.assignments[%d].var", p.idx)
				k.errorf(d, "variable name %q must be a letter or _ followed by letters, digits or _", p.a.Var)
				progress = true
				continue
			}
			prog, t, f := k.compileExpr(p.a.Value, reflect.Invalid)
			if f != nil {
				p.fault = f
				left = append(left, p)
				continue
			}
			vt, ok := varTypeOf(t)
			if !ok {
				k.errorf(d, "the value must be a string, a number or a bool, not %v", t)
				progress = true
				continue
			}
			before := len(k.c.vars)
			k.declare(d, p.a.Var, vt)
			if len(k.c.vars) != before {
				sort.Strings(k.c.varNames)
				k.checkEnv = typedEnv(k.c.vars, k.c.varNames)
				k.checkConf = [2]*conf.Config{}
			}
			k.c.nodes[p.node].sets[p.idx] = cassign{name: p.a.Var, typ: vt, prog: prog}
			progress = true
		}
		todo = left
		if !progress {
			for _, p := range todo {
				d := Diagnostic{Node: k.c.nodes[p.node].n.ID, Field: fmt.Sprintf("set_variable.assignments[%d].value", p.idx)}
				k.exprError(d, p.a.Value, p.fault)
			}
			return
		}
	}
}

func varTypeOf(t reflect.Type) (VarType, bool) {
	if t == nil {
		return "", false
	}
	switch t.Kind() {
	case reflect.String:
		return VarString, true
	case reflect.Bool:
		return VarBool, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return VarNumber, true
	}
	return "", false
}

// text checks one per-language text: required or not, within the size
// limit, and present in every supported language once present in one.
func (k *compiler) text(d Diagnostic, t Text, required bool) {
	if len(t) == 0 {
		if required {
			d.Code = CodeInvalid
			k.errorf(d, "text is missing")
		}
		return
	}
	field := d.Field
	// Languages in order, so the diagnostics come out the same every time.
	langs := make([]string, 0, len(t))
	for lang := range t {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		if s := t[lang]; len(s) > k.lim.MaxTextLength {
			d.Code, d.Field = CodeLimit, field+"."+lang
			k.errorf(d, "text is %d bytes long; the limit is %d", len(s), k.lim.MaxTextLength)
		}
	}
	for i, lang := range k.c.langs {
		if strings.TrimSpace(t[lang]) == "" {
			d.Code, d.Field = CodeMissingTranslation, field+"."+lang
			if i == 0 {
				// The default language is every visitor's fallback: it
				// must be there.
				k.errorf(d, "text has no %s (default language) version", lang)
			} else {
				// Visitors of that language get the default language's
				// text; the builder is warned.
				k.warnf(d, "text has no %s translation; those visitors get the default language", lang)
			}
		}
	}
}

func (k *compiler) quickReplies(d Diagnostic, qr []QuickReply) {
	if len(qr) > k.lim.MaxQuickReplies {
		d.Code = CodeLimit
		k.errorf(d, "%d quick replies; the limit is %d", len(qr), k.lim.MaxQuickReplies)
		return
	}
	seen := map[string]bool{}
	field := d.Field
	for i, q := range qr {
		d.Field = fmt.Sprintf("%s[%d]", field, i)
		if q.Value == "" || len(q.Value) > k.lim.MaxIDLength {
			d.Code = CodeInvalid
			k.errorf(d, "a quick reply needs a value of 1 to %d bytes", k.lim.MaxIDLength)
		} else if seen[q.Value] {
			d.Code = CodeInvalid
			k.errorf(d, "quick reply value %q is used twice", q.Value)
		}
		seen[q.Value] = true
		ld := d
		ld.Field += ".label"
		k.text(ld, q.Label, true)
	}
}

func (k *compiler) fields(d Diagnostic, fs []Field, capture bool) {
	if len(fs) == 0 {
		d.Code = CodeInvalid
		k.errorf(d, "at least one field is needed")
		return
	}
	if len(fs) > k.lim.MaxFields {
		d.Code = CodeLimit
		k.errorf(d, "%d fields; the limit is %d", len(fs), k.lim.MaxFields)
		return
	}
	base := d.Field
	for i, f := range fs {
		d.Field = fmt.Sprintf("%s[%d]", base, i)
		fd := d
		fd.Code = CodeInvalid
		switch f.Type {
		case FieldText, FieldEmail, FieldPhone, FieldNumber, FieldDate, FieldURL:
		case FieldChoice:
			if len(f.Choices) == 0 {
				fd.Field = d.Field + ".choices"
				k.errorf(fd, "a choice field needs choices")
			}
			cd := d
			cd.Field = d.Field + ".choices"
			k.quickReplies(cd, f.Choices)
		default:
			fd.Field = d.Field + ".type"
			k.errorf(fd, "unknown field type %q (text, email, phone, number, choice, date or url)", f.Type)
		}
		if capture && !captureVars[f.Var] {
			fd.Field = d.Field + ".var"
			k.errorf(fd, "a capture field must be one of name, email, phone, company, note; not %q", f.Var)
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			fd.Field = d.Field + ".min"
			k.errorf(fd, "min is greater than max")
		}
		pd := d
		pd.Field = d.Field + ".prompt"
		k.text(pd, f.Prompt, true)
		rd := d
		rd.Field = d.Field + ".reask"
		k.text(rd, f.Reask, false)
	}
}

func (k *compiler) retries(d Diagnostic, n int) {
	if n < 0 || n > MaxRetries {
		d.Code = CodeLimit
		k.errorf(d, "retries must be between 0 and %d", MaxRetries)
	}
}

// nodeConfig checks that a node carries the config of its kind, and nothing
// else, and checks that config.
func (k *compiler) nodeConfig(i int) {
	n := k.c.nodes[i].n
	d := Diagnostic{Code: CodeInvalid, Node: n.ID}
	configs := map[Kind]bool{
		KindGreet: n.Greet != nil, KindMessage: n.Message != nil, KindCollect: n.Collect != nil,
		KindFAQ: n.FAQ != nil, KindLLMAnswer: n.LLMAnswer != nil, KindHandover: n.Handover != nil,
		KindOfflineCapture: n.OfflineCapture != nil, KindBranch: n.Branch != nil,
		KindSetVariable: n.SetVariable != nil, KindHTTPCall: n.HTTPCall != nil, KindEnd: n.End != nil,
	}
	if _, known := configs[n.Kind]; !known {
		d.Field = "kind"
		k.errorf(d, "unknown node kind %q", n.Kind)
		return
	}
	for kind, set := range configs {
		if set && kind != n.Kind {
			d.Field = string(kind)
			k.errorf(d, "a %s node cannot carry %s settings", n.Kind, kind)
		}
	}
	optional := n.Kind == KindBranch || n.Kind == KindEnd || n.Kind == KindFAQ || n.Kind == KindLLMAnswer
	if !configs[n.Kind] && !optional {
		d.Field = string(n.Kind)
		k.errorf(d, "a %s node needs its %s settings", n.Kind, n.Kind)
		return
	}
	at := func(field string) Diagnostic { dd := d; dd.Field = field; return dd }
	switch n.Kind {
	case KindGreet:
		k.text(at("greet.text"), n.Greet.Text, true)
		k.text(at("greet.offline_text"), n.Greet.OfflineText, false)
		k.quickReplies(at("greet.quick_replies"), n.Greet.QuickReplies)
	case KindMessage:
		k.text(at("message.text"), n.Message.Text, true)
		k.quickReplies(at("message.quick_replies"), n.Message.QuickReplies)
		if n.Message.DelayMS < 0 || n.Message.DelayMS > MaxMessageDelayMS {
			dd := at("message.delay_ms")
			dd.Code = CodeLimit
			k.errorf(dd, "delay must be between 0 and %d ms", MaxMessageDelayMS)
		}
	case KindCollect:
		k.fields(at("collect.fields"), n.Collect.Fields, false)
		k.retries(at("collect.retries"), n.Collect.Retries)
	case KindFAQ, KindLLMAnswer:
		cfg, name := n.FAQ, "faq"
		if n.Kind == KindLLMAnswer {
			cfg, name = n.LLMAnswer, "llm_answer"
		}
		if cfg != nil {
			k.text(at(name+".prompt"), cfg.Prompt, false)
			k.text(at(name+".no_match"), cfg.NoMatch, false)
		}
	case KindHandover:
		h := n.Handover
		if h.WaitSeconds < 0 || h.WaitSeconds > MaxHandoverWaitSeconds {
			dd := at("handover.wait_seconds")
			dd.Code = CodeLimit
			k.errorf(dd, "wait must be between 0 and %d seconds", MaxHandoverWaitSeconds)
		}
		k.text(at("handover.online_text"), h.OnlineText, true)
		k.text(at("handover.offline_text"), h.OfflineText, true)
		k.text(at("handover.joined_text"), h.JoinedText, false)
	case KindOfflineCapture:
		cp := n.OfflineCapture
		if cp.Create != "" && cp.Create != "lead" && cp.Create != "deal" {
			k.errorf(at("offline_capture.create"), "create must be lead or deal, not %q", cp.Create)
		}
		k.text(at("offline_capture.intro"), cp.Intro, false)
		k.fields(at("offline_capture.fields"), cp.Fields, true)
		k.text(at("offline_capture.confirm"), cp.Confirm, true)
		k.retries(at("offline_capture.retries"), cp.Retries)
	case KindSetVariable:
		if len(n.SetVariable.Assignments) == 0 {
			k.errorf(at("set_variable.assignments"), "at least one assignment is needed")
		}
	case KindHTTPCall:
		k.httpCall(d, n.HTTPCall)
	case KindEnd:
		if n.End != nil {
			k.text(at("end.text"), n.End.Text, false)
		}
	}
}

func (k *compiler) httpCall(d Diagnostic, h *HTTPCallConfig) {
	at := func(field string) Diagnostic { dd := d; dd.Field = field; return dd }
	switch h.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		k.errorf(at("http_call.method"), "method must be GET, POST, PUT, PATCH or DELETE, not %q", h.Method)
	}
	if !strings.HasPrefix(h.URL, "https://") && !strings.HasPrefix(h.URL, "http://") {
		k.errorf(at("http_call.url"), "the URL must start with https:// or http://")
	}
	if len(h.URL) > 2048 {
		dd := at("http_call.url")
		dd.Code = CodeLimit
		k.errorf(dd, "the URL is longer than 2048 bytes")
	}
	if len(h.Headers) > 20 {
		dd := at("http_call.headers")
		dd.Code = CodeLimit
		k.errorf(dd, "%d headers; the limit is 20", len(h.Headers))
	}
	names := make([]string, 0, len(h.Headers))
	for name := range h.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := h.Headers[name]
		if !httpTokenPattern.MatchString(name) || strings.ContainsAny(v, "\r\n\x00") || len(v) > 1024 {
			k.errorf(at("http_call.headers."+name), "header %q is not a valid name or its value holds a line break or is over 1024 bytes", name)
		}
	}
	if len(h.Body) > 8000 {
		dd := at("http_call.body")
		dd.Code = CodeLimit
		k.errorf(dd, "the body is %d bytes long; the limit is 8000", len(h.Body))
	}
	if h.TimeoutMS < 0 || h.TimeoutMS > MaxHTTPTimeoutMS {
		dd := at("http_call.timeout_ms")
		dd.Code = CodeLimit
		k.errorf(dd, "timeout must be between 0 and %d ms", MaxHTTPTimeoutMS)
	}
	if len(h.Map) > 50 {
		dd := at("http_call.map")
		dd.Code = CodeLimit
		k.errorf(dd, "%d mappings; the limit is 50", len(h.Map))
	}
	for i, m := range h.Map {
		if m.Path == "" || len(m.Path) > 256 {
			k.errorf(at(fmt.Sprintf("http_call.map[%d].path", i)), "a mapping needs a path of 1 to 256 bytes")
		}
	}
}

var httpTokenPattern = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)

func (k *compiler) edges() {
	c := k.c
	seen := map[string]bool{}
	for i, e := range k.g.Edges {
		d := Diagnostic{Code: CodeInvalid, Edge: e.ID, Field: fmt.Sprintf("edges[%d]", i)}
		if !k.checkID(d, "edge", e.ID) {
			continue
		}
		if seen[e.ID] {
			d.Code = CodeDuplicateID
			k.errorf(d, "edge id %q is used twice", e.ID)
			continue
		}
		seen[e.ID] = true
		from, okFrom := c.index[e.From]
		to, okTo := c.index[e.To]
		if !okFrom {
			d.Code, d.Field = CodeDanglingEdge, "from"
			k.errorf(d, "edge leaves node %q, which does not exist", e.From)
		}
		if !okTo {
			d.Code, d.Field = CodeDanglingEdge, "to"
			k.errorf(d, "edge goes to node %q, which does not exist", e.To)
		}
		cd := Diagnostic{Edge: e.ID, Node: e.From, Field: "condition"}
		prog, _ := k.condition(cd, e.Condition)
		if !okFrom || !okTo {
			continue
		}
		fn := c.nodes[from].n
		port := e.port(fn.Kind)
		pi := portIndex(fn.Kind, port)
		if pi < 0 {
			d.Code, d.Node, d.Field = CodeUnknownPort, fn.ID, "port"
			if fn.Kind == KindEnd {
				k.errorf(d, "an end node has no way out")
			} else {
				k.errorf(d, "a %s node has no port %q (ports: %s)", fn.Kind, port, strings.Join(Ports(fn.Kind), ", "))
			}
			continue
		}
		if len(c.nodes[from].ports[pi]) >= k.lim.MaxEdgesPerPort {
			d.Code, d.Node = CodeLimit, fn.ID
			k.errorf(d, "port %q has more than %d edges", port, k.lim.MaxEdgesPerPort)
			continue
		}
		c.nodes[from].ports[pi] = append(c.nodes[from].ports[pi], cedge{id: e.ID, to: to, prog: prog, cond: e.Condition != ""})
	}
}

func portIndex(k Kind, port string) int {
	for i, p := range Ports(k) {
		if p == port {
			return i
		}
	}
	return -1
}

func (k *compiler) rules() {
	c := k.c
	seen := map[string]bool{}
	for i, r := range k.g.Rules {
		d := Diagnostic{Code: CodeInvalid, Rule: r.ID, Field: fmt.Sprintf("global_rules[%d]", i)}
		if !k.checkID(d, "rule", r.ID) {
			continue
		}
		if seen[r.ID] {
			d.Code = CodeDuplicateID
			k.errorf(d, "rule id %q is used twice", r.ID)
			continue
		}
		seen[r.ID] = true
		to, ok := c.index[r.To]
		if !ok {
			d.Code, d.Field = CodeDanglingEdge, "to"
			k.errorf(d, "rule goes to node %q, which does not exist", r.To)
		}
		if r.Condition == "" {
			d.Field = "condition"
			k.errorf(d, "a global rule needs a condition")
			continue
		}
		prog, _ := k.condition(Diagnostic{Rule: r.ID, Field: "condition"}, r.Condition)
		if ok && !r.Disabled {
			c.rules = append(c.rules, cedge{id: r.ID, to: to, prog: prog, cond: true})
		}
	}
}

func (k *compiler) loopBreaker() {
	c, lb := k.c, k.g.LoopBreaker
	c.loopAt = DefaultLoopBreakerThreshold
	if lb == nil {
		for _, cn := range c.nodes {
			if cn.await && !anyDefault(cn.ports[0]) {
				k.errorf(Diagnostic{Code: CodeNoLoopBreaker, Node: cn.n.ID, Field: "loop_breaker"},
					"this node re-asks a visitor it does not understand, and the graph has no loop breaker: the visitor could be trapped")
				return
			}
		}
		k.warnf(Diagnostic{Code: CodeNoLoopBreaker, Field: "loop_breaker"}, "the graph has no loop breaker")
		return
	}
	d := Diagnostic{Code: CodeInvalid, Field: "loop_breaker"}
	if lb.Threshold < 0 || lb.Threshold > MaxLoopBreakerThreshold {
		d.Code = CodeLimit
		k.errorf(d, "threshold must be between 1 and %d", MaxLoopBreakerThreshold)
	} else if lb.Threshold > 0 {
		c.loopAt = lb.Threshold
	}
	to, ok := c.index[lb.To]
	if !ok {
		d.Code = CodeDanglingEdge
		k.errorf(d, "the loop breaker goes to node %q, which does not exist", lb.To)
		return
	}
	if kind := c.nodes[to].n.Kind; kind != KindHandover && kind != KindOfflineCapture {
		k.errorf(d, "the loop breaker must go to a handover or offline_capture node, not a %s node", kind)
		return
	}
	c.loopTo = to
}

func anyDefault(es []cedge) bool {
	for _, e := range es {
		if !e.cond {
			return true
		}
	}
	return false
}

// deadEnds finds ports with no way out. A node that waits for the
// visitor's reply may lack a default edge (an answer no condition matches is
// "not understood" and re-asked); every other port must end in one.
func (k *compiler) deadEnds() {
	for _, cn := range k.c.nodes {
		n := cn.n
		if n.Kind == KindEnd {
			continue
		}
		for pi, port := range Ports(n.Kind) {
			es := cn.ports[pi]
			d := Diagnostic{Code: CodeDeadEnd, Node: n.ID, Field: "port " + port}
			if len(es) == 0 {
				if n.Kind == KindHandover && port == PortTimedOut {
					d.Code = CodeHandoverNoTimeout
					k.errorf(d, "a handover node needs a timed_out path for when nobody claims the chat")
					continue
				}
				k.errorf(d, "dead end: port %q leads nowhere (only an end node may stop)", port)
				continue
			}
			for j, e := range es {
				if !e.cond && j < len(es)-1 {
					k.warnf(Diagnostic{Code: CodeUnreachableEdge, Node: n.ID, Edge: es[j+1].id},
						"this edge is never taken: edge %s before it has no condition", e.id)
					break
				}
			}
			if !cn.await && !anyDefault(es) {
				k.errorf(d, "dead end: when no condition of port %q holds, the chat stops; add an edge with no condition last", port)
			}
		}
	}
}

// reachability reports nodes that no path from the start reaches. Global
// rules and the loop breaker are reachable once any node waits for the
// visitor.
func (k *compiler) reachability() {
	c := k.c
	if c.start < 0 {
		return
	}
	seen := make([]bool, len(c.nodes))
	queue := []int{c.start}
	seen[c.start] = true
	extra := false
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		cn := c.nodes[i]
		if cn.n.waits() && cn.n.Kind != KindHandover && !extra {
			extra = true
			for _, r := range c.rules {
				if !seen[r.to] {
					seen[r.to] = true
					queue = append(queue, r.to)
				}
			}
			if c.loopTo >= 0 && !seen[c.loopTo] {
				seen[c.loopTo] = true
				queue = append(queue, c.loopTo)
			}
		}
		for _, es := range cn.ports {
			for _, e := range es {
				if !seen[e.to] {
					seen[e.to] = true
					queue = append(queue, e.to)
				}
			}
		}
	}
	for i, ok := range seen {
		if !ok && c.nodes[i].n.ID != "" {
			k.errorf(Diagnostic{Code: CodeUnreachable, Node: c.nodes[i].n.ID}, "no path from the start reaches this node")
		}
	}
}

// cycles finds strongly connected components (Tarjan, iterative so a large
// graph cannot exhaust the stack) and reports each cycle with no node that
// waits: the bot would loop without the visitor.
func (k *compiler) cycles() {
	c := k.c
	n := len(c.nodes)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next := 0
	type frame struct{ v, port, edge int }
	succ := func(v int, f *frame) (int, bool) {
		ports := c.nodes[v].ports
		for f.port < len(ports) {
			if f.edge < len(ports[f.port]) {
				w := ports[f.port][f.edge].to
				f.edge++
				return w, true
			}
			f.port++
			f.edge = 0
		}
		return 0, false
	}
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{v: root}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if w, ok := succ(v, f); ok {
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				if low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] != index[v] {
				continue
			}
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			k.checkComponent(comp)
		}
	}
}

func (k *compiler) checkComponent(comp []int) {
	c := k.c
	if len(comp) == 1 {
		self := false
		for _, es := range c.nodes[comp[0]].ports {
			for _, e := range es {
				if e.to == comp[0] {
					self = true
				}
			}
		}
		if !self {
			return
		}
	}
	ids := make([]string, 0, len(comp))
	for _, i := range comp {
		if c.nodes[i].n.waits() {
			return
		}
		ids = append(ids, c.nodes[i].n.ID)
	}
	sort.Strings(ids)
	k.errorf(Diagnostic{Code: CodeCycleWithoutInput, Node: ids[0]},
		"the nodes %s form a cycle with no node that waits for the visitor: the bot would loop forever", strings.Join(ids, ", "))
}
