package engine

import (
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// AllowedBuiltins are the expr built-in functions a condition may call.
// Everything else is refused by the policy: functions that read the clock
// (now, date), that grow memory fast (repeat, join, toJSON, flatten,
// groupBy, sortBy, reduce) or that the environment has no use for.
var AllowedBuiltins = map[string]bool{
	"len": true, "abs": true, "ceil": true, "floor": true, "round": true,
	"int": true, "float": true, "string": true,
	"trim": true, "trimPrefix": true, "trimSuffix": true, "upper": true, "lower": true,
	"indexOf": true, "lastIndexOf": true, "hasPrefix": true, "hasSuffix": true,
	"split": true, "max": true, "min": true, "first": true, "last": true,
	// Predicates over a collection; the policy refuses one inside another.
	"all": true, "any": true, "none": true, "one": true, "filter": true,
	"map": true, "count": true, "find": true, "findIndex": true,
}

// predicateBuiltins take a closure; nesting them multiplies their cost.
var predicateBuiltins = map[string]bool{
	"all": true, "any": true, "none": true, "one": true, "filter": true,
	"map": true, "count": true, "find": true, "findIndex": true,
}

// allowedNowMethods are the time.Time methods a condition may call on now:
// pure accessors returning plain numbers.
var allowedNowMethods = map[string]bool{
	"Hour": true, "Minute": true, "Year": true, "YearDay": true, "Day": true, "Unix": true,
}

// exprFault is a policy or compiler error at a rune range of the source.
type exprFault struct {
	from, to int
	msg      string
}

// checkPolicy refuses, before expr's compiler runs, what could crash or stall
// the process: over-long sources, deep nesting, constructs outside the
// allow-list, method calls, nested predicates and large ranges. It returns
// the parsed tree for the compiler when the source passes.
func checkPolicy(src string, lim Limits) (*parser.Tree, *exprFault) {
	if len(src) > lim.MaxConditionLength {
		return nil, &exprFault{from: 0, msg: fmt.Sprintf("expression is %d bytes long; the limit is %d", len(src), lim.MaxConditionLength)}
	}
	if !utf8.ValidString(src) {
		return nil, &exprFault{from: 0, msg: "expression is not valid UTF-8"}
	}
	// Bracket depth is checked on the raw text so that the parser, which
	// recurses once per level, never sees a pathological input.
	if at, depth := bracketDepth(src); depth > lim.MaxConditionDepth {
		return nil, &exprFault{from: at, msg: fmt.Sprintf("expression nests %d levels deep; the limit is %d", depth, lim.MaxConditionDepth)}
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, faultOf(err)
	}
	w := policyWalker{lim: lim}
	w.walk(tree.Node, 1, 0)
	if w.fault != nil {
		return nil, w.fault
	}
	if w.nodes > lim.MaxExprNodes {
		return nil, &exprFault{from: 0, msg: fmt.Sprintf("expression has %d parts; the limit is %d", w.nodes, lim.MaxExprNodes)}
	}
	return tree, nil
}

// bracketDepth returns the deepest nesting of (), [] and {} outside string
// literals, and the rune offset where it is first reached.
func bracketDepth(src string) (at, maxDepth int) {
	depth := 0
	var quote rune
	escaped := false
	i := 0
	for _, r := range src {
		switch {
		case quote != 0:
			if escaped {
				escaped = false
			} else if r == '\\' && quote != '`' {
				escaped = true
			} else if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			depth++
			if depth > maxDepth {
				maxDepth, at = depth, i
			}
		case r == ')' || r == ']' || r == '}':
			depth--
		}
		i++
	}
	return at, maxDepth
}

type policyWalker struct {
	lim   Limits
	nodes int
	fault *exprFault
}

func (w *policyWalker) fail(n ast.Node, format string, args ...any) {
	if w.fault == nil {
		loc := n.Location()
		w.fault = &exprFault{from: loc.From, to: loc.To, msg: fmt.Sprintf(format, args...)}
	}
}

// walk checks n at nesting depth and inside predicates levels of closures.
func (w *policyWalker) walk(n ast.Node, depth, predicates int) {
	if n == nil || w.fault != nil {
		return
	}
	w.nodes++
	if depth > w.lim.MaxConditionDepth {
		w.fail(n, "expression nests more than %d levels deep", w.lim.MaxConditionDepth)
		return
	}
	next := depth + 1
	switch n := n.(type) {
	case *ast.NilNode, *ast.IdentifierNode, *ast.IntegerNode, *ast.FloatNode,
		*ast.BoolNode, *ast.StringNode, *ast.ConstantNode, *ast.PointerNode:
	case *ast.UnaryNode:
		w.walk(n.Node, next, predicates)
	case *ast.BinaryNode:
		switch n.Operator {
		case "..":
			lo, okLo := n.Left.(*ast.IntegerNode)
			hi, okHi := n.Right.(*ast.IntegerNode)
			if !okLo || !okHi {
				w.fail(n, "a range must have literal integer bounds")
				return
			}
			if hi.Value-lo.Value > MaxRangeLength {
				w.fail(n, "a range may hold at most %d numbers", MaxRangeLength)
				return
			}
		case "matches":
			if _, ok := n.Right.(*ast.StringNode); !ok {
				w.fail(n.Right, "the pattern of matches must be a literal string")
				return
			}
		}
		w.walk(n.Left, next, predicates)
		w.walk(n.Right, next, predicates)
	case *ast.ChainNode:
		w.walk(n.Node, next, predicates)
	case *ast.MemberNode:
		w.walk(n.Node, next, predicates)
		w.walk(n.Property, next, predicates)
	case *ast.SliceNode:
		w.walk(n.Node, next, predicates)
		w.walk(n.From, next, predicates)
		w.walk(n.To, next, predicates)
	case *ast.CallNode:
		m, ok := n.Callee.(*ast.MemberNode)
		if !ok {
			w.fail(n, "unknown function %s", calleeName(n.Callee))
			return
		}
		id, onNow := m.Node.(*ast.IdentifierNode)
		name, isName := m.Property.(*ast.StringNode)
		if !onNow || id.Value != "now" || !isName || !allowedNowMethods[name.Value] || len(n.Arguments) > 0 {
			w.fail(n, "method calls are not allowed (only now.Hour(), now.Minute(), now.Year(), now.YearDay(), now.Day() and now.Unix())")
			return
		}
	case *ast.BuiltinNode:
		if !AllowedBuiltins[n.Name] {
			w.fail(n, "function %s is not allowed in conditions", n.Name)
			return
		}
		inner := predicates
		if predicateBuiltins[n.Name] {
			if predicates > 0 {
				w.fail(n, "%s inside another predicate is not allowed (its cost would multiply)", n.Name)
				return
			}
			inner++
		}
		for _, a := range n.Arguments {
			w.walk(a, next, inner)
		}
	case *ast.PredicateNode:
		w.walk(n.Node, next, predicates)
	case *ast.ConditionalNode:
		w.walk(n.Cond, next, predicates)
		w.walk(n.Exp1, next, predicates)
		w.walk(n.Exp2, next, predicates)
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			w.walk(e, next, predicates)
		}
	case *ast.MapNode:
		for _, p := range n.Pairs {
			w.walk(p, next, predicates)
		}
	case *ast.PairNode:
		w.walk(n.Key, next, predicates)
		w.walk(n.Value, next, predicates)
	case *ast.VariableDeclaratorNode, *ast.SequenceNode:
		w.fail(n, "let and ; are not allowed in conditions")
	default:
		w.fail(n, "this construct is not allowed in conditions")
	}
}

func calleeName(n ast.Node) string {
	if id, ok := n.(*ast.IdentifierNode); ok {
		return id.Value
	}
	return "call"
}

// faultOf turns an expr error into a fault at its position.
func faultOf(err error) *exprFault {
	if fe, ok := err.(*file.Error); ok {
		return &exprFault{from: fe.From, to: fe.To, msg: fe.Message}
	}
	return &exprFault{msg: err.Error()}
}

// position turns a rune offset in src into a 1-based line and column.
func position(src string, offset int) (line, col int) {
	line, col = 1, 1
	i := 0
	for _, r := range src {
		if i == offset {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// checkGrowth walks a type-checked tree and refuses what would build large
// values on every run: joining strings or lists inside a predicate (each
// of up to MaxRangeLength iterations would copy the visitor's text), and
// turning a list or map into a string. The memory budget counts list
// elements, not string bytes, so these must be caught here.
func checkGrowth(root ast.Node) *exprFault {
	var fault *exprFault
	var walk func(n ast.Node, inPredicate bool)
	walk = func(n ast.Node, inPredicate bool) {
		if n == nil || fault != nil {
			return
		}
		fail := func(msg string) {
			loc := n.Location()
			fault = &exprFault{from: loc.From, to: loc.To, msg: msg}
		}
		switch n := n.(type) {
		case *ast.BinaryNode:
			if n.Operator == "+" && inPredicate {
				if k := n.Type().Kind(); k == reflect.String || k == reflect.Slice || k == reflect.Interface {
					fail("joining strings or lists inside a predicate is not allowed (its cost would multiply)")
					return
				}
			}
			walk(n.Left, inPredicate)
			walk(n.Right, inPredicate)
		case *ast.UnaryNode:
			walk(n.Node, inPredicate)
		case *ast.ChainNode:
			walk(n.Node, inPredicate)
		case *ast.MemberNode:
			walk(n.Node, inPredicate)
			walk(n.Property, inPredicate)
		case *ast.SliceNode:
			walk(n.Node, inPredicate)
			walk(n.From, inPredicate)
			walk(n.To, inPredicate)
		case *ast.CallNode:
			for _, a := range n.Arguments {
				walk(a, inPredicate)
			}
		case *ast.BuiltinNode:
			if n.Name == "string" && len(n.Arguments) == 1 {
				if k := n.Arguments[0].Type().Kind(); k == reflect.Slice || k == reflect.Map || k == reflect.Array || k == reflect.Interface && inPredicate {
					fail("string() of a list or map is not allowed")
					return
				}
			}
			inner := inPredicate || predicateBuiltins[n.Name]
			for _, a := range n.Arguments {
				walk(a, inner)
			}
		case *ast.PredicateNode:
			walk(n.Node, true)
		case *ast.ConditionalNode:
			walk(n.Cond, inPredicate)
			walk(n.Exp1, inPredicate)
			walk(n.Exp2, inPredicate)
		case *ast.ArrayNode:
			for _, e := range n.Nodes {
				walk(e, inPredicate)
			}
		case *ast.MapNode:
			for _, e := range n.Pairs {
				walk(e, inPredicate)
			}
		case *ast.PairNode:
			walk(n.Key, inPredicate)
			walk(n.Value, inPredicate)
		}
	}
	walk(root, false)
	return fault
}
