package engine

// Built-in texts the bot sends when a graph does not say otherwise. A
// language missing here falls back to English.
var (
	textNotUnderstood = Text{
		"en": "Sorry, I didn't understand that.",
		"fr": "Désolé, je n'ai pas compris.",
		"es": "Lo siento, no lo he entendido.",
		"de": "Entschuldigung, das habe ich nicht verstanden.",
	}
	textInvalid = Text{
		"en": "That doesn't look right.",
		"fr": "Cela ne semble pas correct.",
		"es": "Eso no parece correcto.",
		"de": "Das scheint nicht zu stimmen.",
	}
	textJoined = Text{
		"en": "{{agent.name}} joined the chat.",
		"fr": "{{agent.name}} a rejoint la conversation.",
		"es": "{{agent.name}} se ha unido al chat.",
		"de": "{{agent.name}} ist dem Chat beigetreten.",
	}
)
