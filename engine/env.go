package engine

import (
	"reflect"
	"strconv"
	"time"
)

// Env is the environment a condition sees. Its expr tags are the names an
// admin writes:
//
//	vars.NAME           a collected, set, mapped or declared variable
//	                    (number variables are floats; unset ones hold
//	                    their type's zero value: "", 0 or false)
//	visitor.is_new      true unless the visitor was seen before
//	visitor.language    the chat's language ("en", "fr", ...)
//	visitor.page_url    the page the widget runs on
//	visitor.referrer    the page before it
//	visitor.identified  true when the visitor's identity is signed
//	message.text        the visitor's last message ("" when none)
//	message.choice      the value of the quick reply or choice it matched
//	agents.online       the number of agents online now
//	now                 the current time (methods Hour, Minute, Year,
//	                    YearDay, Day and Unix may be called)
//	business_hours      true inside the assistant's schedule
//
// Built-in functions are limited to an allow-list (see AllowedBuiltins).
type Env struct {
	Vars          map[string]any `expr:"vars"`
	Visitor       VisitorEnv     `expr:"visitor"`
	Message       MessageEnv     `expr:"message"`
	Agents        AgentsEnv      `expr:"agents"`
	Now           time.Time      `expr:"now"`
	BusinessHours bool           `expr:"business_hours"`
}

// VisitorEnv is what conditions know about the visitor.
type VisitorEnv struct {
	IsNew      bool   `expr:"is_new" json:"is_new"`
	Language   string `expr:"language" json:"language"`
	PageURL    string `expr:"page_url" json:"page_url,omitempty"`
	Referrer   string `expr:"referrer" json:"referrer,omitempty"`
	Identified bool   `expr:"identified" json:"identified,omitempty"`
}

// MessageEnv is the visitor's message being handled.
type MessageEnv struct {
	Text   string `expr:"text"`
	Choice string `expr:"choice"`
}

// AgentsEnv is what conditions know about the agents.
type AgentsEnv struct {
	Online int `expr:"online"`
}

// goType is the Go type a variable of this type holds at run time.
func (t VarType) goType() reflect.Type {
	switch t {
	case VarNumber:
		return reflect.TypeOf(float64(0))
	case VarBool:
		return reflect.TypeOf(false)
	}
	return reflect.TypeOf("")
}

// zero is the value an unset variable of this type holds.
func (t VarType) zero() any {
	switch t {
	case VarNumber:
		return float64(0)
	case VarBool:
		return false
	}
	return ""
}

// typedEnv builds, for type checking only, an environment whose vars is a
// struct with one field per declared variable. Conditions are checked
// against it so that a misspelt variable or a comparison of a string with a
// number is a compile error with a position; they then run against Env,
// whose vars is a map holding values of the same types.
func typedEnv(vars map[string]VarType, names []string) any {
	fields := make([]reflect.StructField, 0, len(names))
	for i, name := range names {
		fields = append(fields, reflect.StructField{
			Name: "V" + strconv.Itoa(i),
			Type: vars[name].goType(),
			Tag:  reflect.StructTag(`expr:"` + name + `"`),
		})
	}
	varsType := reflect.StructOf(fields)
	envType := reflect.StructOf([]reflect.StructField{
		{Name: "Vars", Type: varsType, Tag: `expr:"vars"`},
		{Name: "Visitor", Type: reflect.TypeOf(VisitorEnv{}), Tag: `expr:"visitor"`},
		{Name: "Message", Type: reflect.TypeOf(MessageEnv{}), Tag: `expr:"message"`},
		{Name: "Agents", Type: reflect.TypeOf(AgentsEnv{}), Tag: `expr:"agents"`},
		{Name: "Now", Type: reflect.TypeOf(time.Time{}), Tag: `expr:"now"`},
		{Name: "BusinessHours", Type: reflect.TypeOf(false), Tag: `expr:"business_hours"`},
	})
	return reflect.New(envType).Elem().Interface()
}
