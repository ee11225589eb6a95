package engine

// Limits bound what a graph may hold. Compile refuses a graph past any of them
// with a "limit" error naming the node, edge or field. The zero value of a
// field means its default (DefaultLimits).
type Limits struct {
	// MaxNodes defaults to 2,000 nodes per graph.
	MaxNodes int
	// MaxEdges defaults to 8,000 edges per graph.
	MaxEdges int
	// MaxEdgesPerPort defaults to 50.
	MaxEdgesPerPort int
	// MaxRules defaults to 50 global rules.
	MaxRules int
	// MaxConditionLength defaults to 1,000 bytes per condition or value expression.
	MaxConditionLength int
	// MaxConditionDepth defaults to 24 levels of nesting in a condition.
	MaxConditionDepth int
	// MaxExprNodes defaults to 300 syntax nodes per condition (expr's MaxNodes).
	MaxExprNodes int
	// MaxTextLength defaults to 4,000 bytes per text in one language.
	MaxTextLength int
	// MaxQuickReplies defaults to 10 per message.
	MaxQuickReplies int
	// MaxFields defaults to 20 per collect or capture node.
	MaxFields int
	// MaxLanguages defaults to 20.
	MaxLanguages int
	// MaxIDLength defaults to 64 bytes for node, edge, rule and variable names.
	MaxIDLength int
	// MaxVariables defaults to 200 distinct variables.
	MaxVariables int
}

// DefaultLimits are the limits a published graph must respect.
var DefaultLimits = Limits{
	MaxNodes:           2000,
	MaxEdges:           8000,
	MaxEdgesPerPort:    50,
	MaxRules:           50,
	MaxConditionLength: 1000,
	MaxConditionDepth:  24,
	MaxExprNodes:       300,
	MaxTextLength:      4000,
	MaxQuickReplies:    10,
	MaxFields:          20,
	MaxLanguages:       20,
	MaxIDLength:        64,
	MaxVariables:       200,
}

// Runtime bounds. They are constants because they protect the process, not
// a product choice.
const (
	// MemoryBudget bounds what one condition may allocate on expr's VM.
	MemoryBudget = 20_000
	// MaxRangeLength bounds a literal range (1..N) in a condition.
	MaxRangeLength = 1000
	// MaxTransitionsPerStep stops a step that moves through more nodes than
	// this without waiting; the checks make it unreachable for a checked graph.
	MaxTransitionsPerStep = 256
	// MaxPath is how many visited node ids the state keeps (the latest).
	MaxPath = 100
	// MaxQuestions is how many visitor questions the state keeps for the
	// handover summary (the latest).
	MaxQuestions = 20
	// MaxVisitorText bounds the visitor text the engine looks at; the runner
	// refuses longer messages before they get here.
	MaxVisitorText = 4000
	// MaxVarValueLength bounds one variable's string value.
	MaxVarValueLength = 2000
	// MaxHTTPTimeoutMS bounds an http_call node's timeout.
	MaxHTTPTimeoutMS = 10_000
	// DefaultHTTPTimeoutMS is an http_call node's timeout when unset.
	DefaultHTTPTimeoutMS = 5000
	// DefaultHandoverWaitSeconds is a handover node's wait when unset.
	DefaultHandoverWaitSeconds = 120
	// MaxHandoverWaitSeconds bounds a handover node's wait (one day).
	MaxHandoverWaitSeconds = 86_400
	// DefaultRetries is how many invalid answers collect re-asks.
	DefaultRetries = 2
	// MaxRetries bounds Retries on collect and capture nodes.
	MaxRetries = 10
	// DefaultLoopBreakerThreshold is the loop breaker's threshold when unset.
	DefaultLoopBreakerThreshold = 3
	// MaxLoopBreakerThreshold bounds the loop breaker's threshold.
	MaxLoopBreakerThreshold = 20
	// MaxMessageDelayMS bounds a message's typing delay.
	MaxMessageDelayMS = 10_000
)

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxNodes, d.MaxNodes)
	set(&l.MaxEdges, d.MaxEdges)
	set(&l.MaxEdgesPerPort, d.MaxEdgesPerPort)
	set(&l.MaxRules, d.MaxRules)
	set(&l.MaxConditionLength, d.MaxConditionLength)
	set(&l.MaxConditionDepth, d.MaxConditionDepth)
	set(&l.MaxExprNodes, d.MaxExprNodes)
	set(&l.MaxTextLength, d.MaxTextLength)
	set(&l.MaxQuickReplies, d.MaxQuickReplies)
	set(&l.MaxFields, d.MaxFields)
	set(&l.MaxLanguages, d.MaxLanguages)
	set(&l.MaxIDLength, d.MaxIDLength)
	set(&l.MaxVariables, d.MaxVariables)
	return l
}
