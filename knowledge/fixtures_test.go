package knowledge_test

import "github.com/frontdesk/frontdesk/knowledge"

// The fixtures are three small businesses, one per language, each with
// more than eight FAQ entries where most have a near-miss neighbour
// (prices / discounts, delivery / express delivery, revisions / unlimited
// revisions, payment / refund), so a test that finds the right entry shows
// ranking, not luck.

// webDesigner is an English freelancer who builds websites.
func webDesigner() knowledge.Base {
	return knowledge.Base{
		Language: "en",
		Bio: "I'm Sam, a web designer with eight years of experience building fast websites for small businesses. " +
			"I have worked with bakeries, law firms and yoga studios.",
		Tone:         "Friendly and concise.",
		PricingStyle: knowledge.PricingBalanced,
		Rules: knowledge.Rules{
			Offer:       []string{"Website design", "Landing pages", "WordPress development", "SEO audits"},
			DontOffer:   []string{"Logo design", "Mobile apps", "Copywriting"},
			CustomOffer: []string{"Number of pages", "Deadline", "Budget"},
			Decline: map[string]string{
				"en": "Sorry, that's not something I offer. I focus on websites and landing pages.",
				"fr": "Désolé, je ne propose pas ce service. Je me concentre sur les sites web.",
			},
		},
		FAQ: []knowledge.FAQEntry{
			{Key: "prices", Language: "en", Question: "What are your prices?",
				Variants: []string{"How much do you charge?", "What does a website cost?"},
				Answer:   "A landing page starts at $400 and a five-page website at $1,200."},
			{Key: "discounts", Language: "en", Question: "Do you offer discounts?",
				Variants: []string{"Is there a discount for students?", "Can I get a lower price?"},
				Answer:   "Non-profits get 15% off; I don't run other discounts."},
			{Key: "delivery", Language: "en", Question: "How long does delivery take?",
				Variants: []string{"When will my website be ready?", "What's your turnaround time?"},
				Answer:   "Most websites are delivered within 7 to 14 days."},
			{Key: "express", Language: "en", Question: "Do you offer express delivery?",
				Variants: []string{"Can you deliver by tomorrow?", "I need it urgently"},
				Answer:   "Yes: express delivery in 3 days costs 50% more."},
			{Key: "revisions", Language: "en", Question: "How many revisions are included?",
				Variants: []string{"Can I ask for changes?"},
				Answer:   "Every package includes two rounds of revisions."},
			{Key: "unlimited", Language: "en", Question: "Do you offer unlimited revisions?",
				Answer: "No. Extra revision rounds are $50 each."},
			{Key: "hosting", Language: "en", Question: "Do you provide hosting?",
				Variants: []string{"Will you host my website?"},
				Answer:   "I set up hosting on your own account, so you keep full control."},
			{Key: "domain", Language: "en", Question: "Can you register a domain name for me?",
				Answer: "Yes, I register the domain in your name."},
			{Key: "payment", Language: "en", Question: "Which payment methods do you accept?",
				Variants: []string{"Can I pay by PayPal?"},
				Answer:   "Bank transfer, card or PayPal: half up front, half on delivery."},
			{Key: "refund", Language: "en", Question: "What is your refund policy?",
				Variants: []string{"Can I get a refund?"},
				Answer:   "The deposit is refundable until the design is approved."},
			{Key: "wordpress", Language: "en", Question: "Do you work with WordPress?",
				Answer: "Yes, most of my sites are built on WordPress."},
			{Key: "seo", Language: "en", Question: "Will my site rank on Google?",
				Variants: []string{"Do you do SEO?"},
				Answer:   "Every site ships with technical SEO; rankings also depend on your content."},
			// A French translation of one entry: answers follow the
			// visitor's language when the key has one.
			{Key: "prices", Language: "fr", Question: "Quels sont vos tarifs ?",
				Answer: "Une landing page commence à 400 $ et un site de cinq pages à 1 200 $."},
		},
	}
}

// photographer is a French wedding photographer.
func photographer() knowledge.Base {
	return knowledge.Base{
		Language:     "fr",
		Bio:          "Je suis Léa, photographe de mariage à Lyon depuis dix ans.",
		PricingStyle: knowledge.PricingInformative,
		Rules: knowledge.Rules{
			Offer:     []string{"Photos de mariage", "Séances de couple", "Albums imprimés"},
			DontOffer: []string{"Vidéo de mariage", "Prises de vue par drone"},
			Decline:   map[string]string{"fr": "Je ne propose malheureusement pas ce service."},
		},
		FAQ: []knowledge.FAQEntry{
			{Key: "tarifs", Question: "Quels sont vos tarifs ?",
				Variants: []string{"Combien coûte un reportage de mariage ?"},
				Answer:   "Les reportages commencent à 1 400 € pour la journée."},
			{Key: "acompte", Question: "Faut-il verser un acompte ?",
				Answer: "Oui, 30 % à la réservation pour bloquer la date."},
			{Key: "livraison", Question: "Quel est le délai de livraison des photos ?",
				Answer: "Les photos retouchées arrivent dans une galerie en ligne sous six semaines."},
			{Key: "apercu", Question: "Recevrons-nous un aperçu rapide ?",
				Variants: []string{"Peut-on avoir quelques photos avant la galerie complète ?"},
				Answer:   "Oui, une sélection de vingt photos sous une semaine."},
			{Key: "deplacement", Question: "Vous déplacez-vous hors de Lyon ?",
				Variants: []string{"Faites-vous des mariages à l'étranger ?"},
				Answer:   "Partout en France ; les frais de route sont facturés au-delà de 50 km."},
			{Key: "retouches", Question: "Les photos sont-elles retouchées ?",
				Answer: "Toutes les photos livrées sont retouchées."},
			{Key: "tirages", Question: "Proposez-vous des tirages papier ?",
				Variants: []string{"Peut-on commander un album ?"},
				Answer:   "Oui, tirages et albums sont en option."},
			{Key: "droits", Question: "Pouvons-nous publier les photos sur les réseaux sociaux ?",
				Answer: "Oui, pour un usage personnel, en citant la photographe."},
			{Key: "nombre", Question: "Combien de photos recevrons-nous ?",
				Answer: "Entre 400 et 600 photos pour une journée complète."},
			{Key: "annulation", Question: "Que se passe-t-il en cas d'annulation ?",
				Answer: "L'acompte est conservé, sauf report de date dans l'année."},
		},
	}
}

// printShop is a Spanish print studio that ships posters.
func printShop() knowledge.Base {
	return knowledge.Base{
		Language:     "es",
		Bio:          "Somos un taller de impresión artesanal en Valencia.",
		PricingStyle: knowledge.PricingAssertive,
		Rules: knowledge.Rules{
			Offer:     []string{"Pósters", "Tarjetas de visita", "Invitaciones"},
			DontOffer: []string{"Camisetas", "Impresión 3D"},
			Decline:   map[string]string{"es": "Lo siento, no ofrecemos ese servicio."},
		},
		FAQ: []knowledge.FAQEntry{
			{Key: "precios", Question: "¿Cuáles son sus precios?",
				Answer: "Un póster A3 cuesta 18 € y un A2, 26 €."},
			{Key: "descuentos", Question: "¿Hacen descuentos por volumen?",
				Answer: "Sí, un 10 % a partir de 20 unidades."},
			{Key: "envios", Question: "¿Hacen envíos internacionales?",
				Variants: []string{"¿Envían fuera de España?"},
				Answer:   "Sí, enviamos a toda Europa en 5 a 7 días."},
			{Key: "coste-envio", Question: "¿Cuánto cuestan los gastos de envío?",
				Answer: "Los gastos de envío son de 4,90 € en España y gratis desde 60 €."},
			{Key: "plazo", Question: "¿Cuál es el plazo de producción?",
				Variants: []string{"¿Cuándo estará listo mi pedido?"},
				Answer:   "Imprimimos en 48 horas laborables."},
			{Key: "devoluciones", Question: "¿Aceptan devoluciones?",
				Answer: "Sí, dentro de 14 días si el producto llega dañado."},
			{Key: "papel", Question: "¿Qué tipo de papel usan?",
				Answer: "Papel de algodón de 300 g, sin ácido."},
			{Key: "tamanos", Question: "¿Qué tamaños de póster tienen?",
				Answer: "A4, A3, A2 y 50×70 cm."},
			{Key: "pago", Question: "¿Qué formas de pago aceptan?",
				Answer: "Tarjeta, Bizum y transferencia."},
			{Key: "factura", Question: "¿Pueden emitir factura?",
				Answer: "Sí, enviamos la factura con cada pedido."},
		},
	}
}
