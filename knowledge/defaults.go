package knowledge

import "slices"

// DefaultLanguages are the languages the pre-filled guidance is written in.
var DefaultLanguages = []string{"en", "fr", "es", "de"}

// Sections of a knowledge base that RestoreDefaults can reset one by one.
const (
	SectionBio     = "bio"
	SectionRules   = "rules"
	SectionPricing = "pricing"
	SectionFAQ     = "faq"
)

// Sections lists every section, in document order.
var Sections = []string{SectionBio, SectionRules, SectionPricing, SectionFAQ}

// guidance is the pre-filled text of one language.
type guidance struct {
	bio, tone   string
	custom      []string
	decline     string
	offersLead  string
	customLead  string
	customAsk   []string
	faq         []FAQEntry
	chatFillers []string
}

// Defaults returns the product's pre-filled guidance: a bio and tone to
// edit, the usual requirements for a custom offer, a polite decline in
// every shipped language, the balanced pricing style, and common FAQ
// entries in each of langs that Frontdesk ships (en, fr, es, de; others
// are skipped). The bio, tone and rules are in language, or in English
// when Frontdesk has no guidance in it. Offer and don't-offer lists start
// empty: only the business can fill them.
func Defaults(language string, langs []string) Base {
	g, ok := guidanceByLang[primary(language)]
	if !ok {
		g = guidanceByLang["en"]
	}
	b := Base{
		Language:     language,
		Bio:          g.bio,
		Tone:         g.tone,
		PricingStyle: PricingBalanced,
		Rules: Rules{
			Offer:       []string{},
			DontOffer:   []string{},
			CustomOffer: slices.Clone(g.custom),
			Decline:     map[string]string{},
		},
		FAQ: []FAQEntry{},
	}
	for _, l := range DefaultLanguages {
		b.Rules.Decline[l] = guidanceByLang[l].decline
	}
	seen := map[string]bool{}
	for _, l := range append([]string{language}, langs...) {
		p := primary(l)
		lg, ok := guidanceByLang[p]
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		for _, e := range lg.faq {
			e.Language = p
			e.Variants = slices.Clone(e.Variants)
			b.FAQ = append(b.FAQ, e)
		}
	}
	b.Normalize(language)
	return b
}

// RestoreDefaults returns b with the named sections (all when none) reset
// to Defaults(language, langs). Pricing resets the pricing style; bio
// resets the bio and the tone. Restoring the bio or the rules sets the
// base's language to language, the language they are now written in.
func RestoreDefaults(b Base, language string, langs []string, sections []string) Base {
	d := Defaults(language, langs)
	if len(sections) == 0 {
		return d
	}
	out := cloneBase(b)
	for _, s := range sections {
		switch s {
		case SectionBio:
			out.Bio, out.Tone, out.Language = d.Bio, d.Tone, d.Language
		case SectionRules:
			out.Rules, out.Language = d.Rules, d.Language
		case SectionPricing:
			out.PricingStyle = d.PricingStyle
		case SectionFAQ:
			out.FAQ = d.FAQ
		}
	}
	out.Normalize(language)
	return out
}

var guidanceByLang = map[string]guidance{
	"en": {
		bio: "I'm a freelancer who turns clients' ideas into finished work, with clear communication and on-time delivery. " +
			"Tell me about your project and I'll help you find the right package.",
		tone: "Friendly, professional and concise. Greet new clients warmly, ask one clarifying question at a time, " +
			"and never promise anything (prices, dates, extras) that is not written here.",
		custom: []string{
			"A short description of the project",
			"The deadline",
			"The budget",
			"Examples or references you like",
		},
		decline:    "Sorry, that's not a service I offer. If you have another project in mind, I'd be glad to help!",
		offersLead: "Here is what I offer:",
		customLead: "To prepare a custom offer, please share:",
		customAsk:  []string{"custom offer", "custom order", "quote"},
		faq: []FAQEntry{
			{Key: "prices", Question: "How much do you charge?",
				Variants: []string{"What are your prices?", "How much does it cost?", "What are your rates?"},
				Answer: "My prices depend on the package and the scope of your project. Tell me a bit about what you need, " +
					"and I'll point you to the right package or prepare a custom offer."},
			{Key: "delivery", Question: "How long does delivery take?",
				Variants: []string{"When can you deliver?", "What is your turnaround time?", "Can you deliver by tomorrow?"},
				Answer:   "Delivery time depends on the package and the size of the project. Share your deadline and I'll confirm whether it can be met."},
			{Key: "revisions", Question: "Do you offer revisions?",
				Variants: []string{"How many revisions are included?", "Can I ask for changes?", "Do you offer unlimited revisions?"},
				Answer:   "Yes. Each package includes a set number of revisions, listed in its description. If you need more, we can agree on them in a custom offer."},
			{Key: "custom-offer", Question: "Can you make me a custom offer?",
				Variants: []string{"Do you take custom orders?", "Can I get a quote?", "I need something specific"},
				Answer:   "Of course! To prepare a custom offer, please share a short description of your project, your deadline, your budget, and any examples you like."},
			{Key: "getting-started", Question: "What do you need from me to get started?",
				Variants: []string{"How do we start?", "What information do you need?"},
				Answer:   "A short description of your project and its goals, your deadline, and any files, brand guidelines or examples you already have."},
		},
		chatFillers: []string{
			"hi", "hello", "hey", "thanks", "thank", "please", "pls", "ok", "okay", "dear", "good", "morning",
			"afternoon", "evening", "question", "wondering", "wonder", "know", "tell", "like", "want", "wanted",
			"need", "would", "could", "can", "much", "many", "help", "also", "just", "really", "sir", "madam",
			"lot", "lots", "get", "got", "give", "make", "provide", "use", "using",
		},
	},
	"fr": {
		bio: "Je suis freelance et je transforme les idées de mes clients en travail fini, avec une communication claire et des livraisons à l'heure. " +
			"Parlez-moi de votre projet et je vous aiderai à trouver la bonne formule.",
		tone: "Chaleureux, professionnel et concis. Accueillez les nouveaux clients avec bienveillance, posez une question à la fois, " +
			"et ne promettez jamais rien (prix, délais, extras) qui ne soit écrit ici.",
		custom: []string{
			"Une courte description du projet",
			"La date limite",
			"Le budget",
			"Des exemples ou références qui vous plaisent",
		},
		decline:    "Désolé, ce n'est pas un service que je propose. Si vous avez un autre projet en tête, je serai ravi de vous aider !",
		offersLead: "Voici ce que je propose :",
		customLead: "Pour préparer une offre personnalisée, merci de préciser :",
		customAsk:  []string{"offre personnalisée", "devis", "sur mesure"},
		faq: []FAQEntry{
			{Key: "prices", Question: "Quels sont vos tarifs ?",
				Variants: []string{"Combien ça coûte ?", "Quel est votre prix ?", "Combien facturez-vous ?"},
				Answer: "Mes tarifs dépendent de la formule et de l'ampleur de votre projet. Décrivez-moi votre besoin " +
					"et je vous orienterai vers la bonne formule ou je préparerai une offre personnalisée."},
			{Key: "delivery", Question: "Quel est le délai de livraison ?",
				Variants: []string{"Quand pouvez-vous livrer ?", "En combien de temps livrez-vous ?", "Pouvez-vous livrer demain ?"},
				Answer:   "Le délai dépend de la formule et de la taille du projet. Indiquez-moi votre date limite et je vous confirmerai si elle peut être tenue."},
			{Key: "revisions", Question: "Proposez-vous des révisions ?",
				Variants: []string{"Combien de révisions sont incluses ?", "Puis-je demander des modifications ?", "Les révisions sont-elles illimitées ?"},
				Answer:   "Oui. Chaque formule comprend un nombre de révisions indiqué dans sa description. S'il vous en faut plus, nous pouvons les prévoir dans une offre personnalisée."},
			{Key: "custom-offer", Question: "Pouvez-vous me faire une offre personnalisée ?",
				Variants: []string{"Faites-vous du sur-mesure ?", "Puis-je avoir un devis ?", "J'ai besoin de quelque chose de spécifique"},
				Answer:   "Bien sûr ! Pour préparer une offre personnalisée, décrivez-moi brièvement votre projet, votre date limite, votre budget et des exemples qui vous plaisent."},
			{Key: "getting-started", Question: "De quoi avez-vous besoin pour commencer ?",
				Variants: []string{"Comment démarrer ?", "Quelles informations vous faut-il ?"},
				Answer:   "Une courte description du projet et de ses objectifs, votre date limite, et les fichiers, chartes graphiques ou exemples dont vous disposez."},
		},
		chatFillers: []string{
			"bonjour", "bonsoir", "salut", "coucou", "merci", "svp", "stp", "plaît", "plait", "question", "voudrais",
			"veux", "aimerais", "savoir", "besoin", "pouvez", "pourriez", "peux", "pourrais", "combien", "aide",
			"aider", "madame", "monsieur", "bien", "aussi", "juste", "vraiment", "ok", "d'accord", "quand",
			"comment", "allez", "aller", "vais", "va", "faire", "faites", "fait", "faut", "avoir", "donner",
			"est-ce", "peut", "peut-on", "pouvons", "pourquoi", "quel", "quelle", "quels", "quelles",
		},
	},
	"es": {
		bio: "Soy freelance y convierto las ideas de mis clientes en trabajo terminado, con una comunicación clara y entregas puntuales. " +
			"Cuéntame tu proyecto y te ayudaré a encontrar el paquete adecuado.",
		tone: "Cercano, profesional y conciso. Recibe a los nuevos clientes con amabilidad, haz una pregunta cada vez " +
			"y nunca prometas nada (precios, plazos, extras) que no esté escrito aquí.",
		custom: []string{
			"Una breve descripción del proyecto",
			"La fecha límite",
			"El presupuesto",
			"Ejemplos o referencias que te gusten",
		},
		decline:    "Lo siento, ese no es un servicio que ofrezca. Si tienes otro proyecto en mente, ¡estaré encantado de ayudarte!",
		offersLead: "Esto es lo que ofrezco:",
		customLead: "Para preparar una oferta personalizada, cuéntame:",
		customAsk:  []string{"oferta personalizada", "presupuesto", "pedido personalizado"},
		faq: []FAQEntry{
			{Key: "prices", Question: "¿Cuáles son tus precios?",
				Variants: []string{"¿Cuánto cuesta?", "¿Cuánto cobras?", "¿Qué tarifas tienes?"},
				Answer: "Mis precios dependen del paquete y del alcance de tu proyecto. Cuéntame qué necesitas " +
					"y te indicaré el paquete adecuado o prepararé una oferta personalizada."},
			{Key: "delivery", Question: "¿Cuánto tarda la entrega?",
				Variants: []string{"¿Cuándo puedes entregar?", "¿Cuál es el plazo de entrega?", "¿Puedes entregarlo mañana?"},
				Answer:   "El plazo depende del paquete y del tamaño del proyecto. Dime tu fecha límite y te confirmaré si se puede cumplir."},
			{Key: "revisions", Question: "¿Ofreces revisiones?",
				Variants: []string{"¿Cuántas revisiones incluye?", "¿Puedo pedir cambios?", "¿Las revisiones son ilimitadas?"},
				Answer:   "Sí. Cada paquete incluye un número de revisiones indicado en su descripción. Si necesitas más, podemos acordarlas en una oferta personalizada."},
			{Key: "custom-offer", Question: "¿Puedes hacerme una oferta personalizada?",
				Variants: []string{"¿Aceptas pedidos personalizados?", "¿Me puedes dar un presupuesto?", "Necesito algo específico"},
				Answer:   "¡Claro! Para preparar una oferta personalizada, cuéntame brevemente tu proyecto, tu fecha límite, tu presupuesto y algunos ejemplos que te gusten."},
			{Key: "getting-started", Question: "¿Qué necesitas de mí para empezar?",
				Variants: []string{"¿Cómo empezamos?", "¿Qué información necesitas?"},
				Answer:   "Una breve descripción del proyecto y sus objetivos, tu fecha límite y los archivos, guías de marca o ejemplos que ya tengas."},
		},
		chatFillers: []string{
			"hola", "buenas", "buenos", "tardes", "noches", "gracias", "favor", "porfa", "pregunta",
			"quisiera", "quiero", "necesito", "saber", "puedes", "puede", "podrías", "podrias", "cuánto", "cuanto",
			"cuánta", "cuanta", "cuántos", "cuantos", "cuántas", "cuantas", "ayuda", "ayudar", "también", "tambien",
			"solo", "vale", "ok", "hacer", "hacen", "hace", "hacéis", "haceis", "tener", "tienen", "tiene",
			"tienes", "dar", "dan", "hay", "mucho", "muchos", "mucha", "muchas", "cuál", "cual", "cuáles",
			"cuales", "cuándo", "cuando", "dónde", "donde", "cómo", "como", "qué", "quién", "quien",
		},
	},
	"de": {
		bio: "Ich bin Freelancer und mache aus den Ideen meiner Kunden fertige Arbeit, mit klarer Kommunikation und pünktlicher Lieferung. " +
			"Erzählen Sie mir von Ihrem Projekt, und ich helfe Ihnen, das passende Paket zu finden.",
		tone: "Freundlich, professionell und knapp. Begrüßen Sie neue Kunden herzlich, stellen Sie eine Frage nach der anderen " +
			"und versprechen Sie nichts (Preise, Termine, Extras), was hier nicht steht.",
		custom: []string{
			"Eine kurze Beschreibung des Projekts",
			"Die Frist",
			"Das Budget",
			"Beispiele oder Referenzen, die Ihnen gefallen",
		},
		decline:    "Das biete ich leider nicht an. Wenn Sie ein anderes Projekt im Kopf haben, helfe ich Ihnen gern!",
		offersLead: "Das biete ich an:",
		customLead: "Für ein individuelles Angebot brauche ich:",
		customAsk:  []string{"individuelles Angebot", "Angebot", "Kostenvoranschlag"},
		faq: []FAQEntry{
			{Key: "prices", Question: "Was kostet das?",
				Variants: []string{"Wie sind Ihre Preise?", "Wie viel verlangen Sie?", "Was sind Ihre Tarife?"},
				Answer: "Meine Preise hängen vom Paket und vom Umfang Ihres Projekts ab. Beschreiben Sie mir kurz, was Sie brauchen, " +
					"dann empfehle ich Ihnen das passende Paket oder erstelle ein individuelles Angebot."},
			{Key: "delivery", Question: "Wie lange dauert die Lieferung?",
				Variants: []string{"Wann können Sie liefern?", "Wie ist die Lieferzeit?", "Können Sie bis morgen liefern?"},
				Answer:   "Die Lieferzeit hängt vom Paket und vom Umfang des Projekts ab. Nennen Sie mir Ihre Frist, und ich bestätige, ob sie machbar ist."},
			{Key: "revisions", Question: "Bieten Sie Überarbeitungen an?",
				Variants: []string{"Wie viele Überarbeitungen sind inklusive?", "Kann ich Änderungen verlangen?", "Sind die Überarbeitungen unbegrenzt?"},
				Answer:   "Ja. Jedes Paket enthält eine feste Anzahl an Überarbeitungen, die in seiner Beschreibung steht. Brauchen Sie mehr, vereinbaren wir sie in einem individuellen Angebot."},
			{Key: "custom-offer", Question: "Können Sie mir ein individuelles Angebot machen?",
				Variants: []string{"Nehmen Sie Sonderaufträge an?", "Kann ich einen Kostenvoranschlag bekommen?", "Ich brauche etwas Bestimmtes"},
				Answer:   "Gern! Für ein individuelles Angebot beschreiben Sie mir kurz Ihr Projekt, Ihre Frist, Ihr Budget und Beispiele, die Ihnen gefallen."},
			{Key: "getting-started", Question: "Was brauchen Sie von mir, um anzufangen?",
				Variants: []string{"Wie fangen wir an?", "Welche Informationen brauchen Sie?"},
				Answer:   "Eine kurze Beschreibung des Projekts und seiner Ziele, Ihre Frist und alle Dateien, Markenrichtlinien oder Beispiele, die Sie schon haben."},
		},
		chatFillers: []string{
			"hallo", "hi", "guten", "abend", "danke", "bitte", "frage", "möchte", "mochte", "moechte",
			"würde", "gern", "gerne", "wissen", "brauche", "können", "konnen", "kann", "viel", "viele", "hilfe",
			"helfen", "auch", "nur", "wirklich", "ok", "okay", "machen", "macht", "geben", "gibt", "bekommen",
			"kriege", "wann", "wo", "wie", "warum", "was", "welche", "welcher", "welches",
		},
	},
}
