// Package engine is the pure core of Frontdesk: the workflow graph model, the
// compiler that checks a graph and its conditions, and Step, the state machine
// that moves one conversation forward by one event.
//
// The package does no IO and reads no clock. Step takes the compiled graph, the
// conversation's state, an event and the current time, and returns the new
// state and a list of effects (send a message, start a timer, ask the answerer,
// call HTTP, request a handover, capture a lead, end). A runner outside this
// package carries the effects out, persists the state, and feeds slow results
// (answers, HTTP responses, fired timers, agent actions) back as events.
//
// Conditions are expr-lang expressions. They pass a policy (length, nesting,
// allow-listed constructs) before expr parses them for real, are type-checked
// against a typed environment (see Env), must be boolean, and run on a VM with
// a memory budget, so no condition an admin can save crashes or stalls the
// process.
package engine
