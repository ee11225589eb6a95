package naming_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/naming"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  naming.Reason // "" means accepted
		brand string
	}{
		// Ordinary names, including the Scunthorpe class: innocent words
		// that contain, start or end with a listed word.
		{"plain", "Helper", "", ""},
		{"spaces trimmed", "  Ada the Helper  ", "", ""},
		{"scunthorpe", "Scunthorpe Tourism", "", ""},
		{"classic", "Classic Cars Concierge", "", ""},
		{"assistant", "Sales Assistant", "", ""},
		{"bass", "Bass Guitar Shop", "", ""},
		{"massachusetts", "Massachusetts Help Desk", "", ""},
		{"cocktail", "Cocktail Bar Bot", "", ""},
		{"analysis", "Analysis Helper", "", ""},
		{"dickens", "Dickens Books", "", ""},
		{"hancock", "Hancock Insurance", "", ""},
		{"therapist", "Therapist Finder", "", ""},
		{"grape", "Grape Juice Co", "", ""},
		{"snigger", "Snigger Comedy Club", "", ""},
		{"niggardly", "Niggardly Budget Advice", "", ""},
		{"wankel", "Wankel Engines", "", ""},
		{"cumberland", "Cumberland Sausages", "", ""},
		{"cum laude", "Summa Cum Laude Tutors", "", ""},
		{"matsushita", "Matsushita Support", "", ""},
		{"penistone", "Penistone Bakery", "", ""},
		{"arsenal", "Arsenal Fan Club", "", ""},
		{"spice", "Spice Shop", "", ""},
		{"computa", "Computa Reparaciones", "", ""},
		{"pique-nique", "Pique-Nique Café", "", ""},
		{"scheibe", "Scheibenwischer Service", "", ""},
		{"french accents", "Élodie, votre conseillère", "", ""},
		{"german", "Größe und Passform", "", ""},
		{"digits", "Support 24/7", "", ""},
		{"emoji", "Helper 🤖", "", ""},
		{"pineapple", "Pineapple Shop", "", ""},
		{"amazonas", "Amazonas Tours", "", ""},
		{"intercompany", "Intercompany Billing", "", ""},
		{"metaphor", "Metaphor Writing Coach", "", ""},
		{"striped", "Striped Socks", "", ""},
		{"hotel front desk", "Hotel Front Desk", "", ""},
		{"exactly max", strings.Repeat("a", naming.MaxLength), "", ""},
		{"max in runes", strings.Repeat("é", naming.MaxLength), "", ""},

		// Shape.
		{"empty", "", naming.ReasonEmpty, ""},
		{"blank", " \t ", naming.ReasonEmpty, ""},
		{"too long", strings.Repeat("a", naming.MaxLength+1), naming.ReasonTooLong, ""},
		{"too long in runes", strings.Repeat("é", naming.MaxLength+1), naming.ReasonTooLong, ""},
		{"newline", "Help\ndesk", naming.ReasonInvalidCharacter, ""},
		{"nul", "Help\x00", naming.ReasonInvalidCharacter, ""},
		{"escape", "Help\x1b[31m", naming.ReasonInvalidCharacter, ""},
		{"zero width space", "Goo\u200bgle", naming.ReasonInvalidCharacter, ""},
		{"bidi override", "Helper\u202e", naming.ReasonInvalidCharacter, ""},
		{"invalid utf-8", "Help\xff", naming.ReasonInvalidCharacter, ""},

		// Offensive words, with the usual disguises.
		{"en", "Shit Bot", naming.ReasonOffensive, ""},
		{"case", "SHIT bot", naming.ReasonOffensive, ""},
		{"leet", "sh1t helper", naming.ReasonOffensive, ""},
		{"leet symbols", "$h!t helper", naming.ReasonOffensive, ""},
		{"dots", "b.i.t.c.h", naming.ReasonOffensive, ""},
		{"spaces", "f u c k", naming.ReasonOffensive, ""},
		{"split word", "sh it happens", naming.ReasonOffensive, ""},
		{"stretched", "fuuuuck", naming.ReasonOffensive, ""},
		{"inside", "MotherFuckingBot", naming.ReasonOffensive, ""},
		{"suffix", "Bullshit Detector", naming.ReasonOffensive, ""},
		{"prefix", "Shitty Helper", naming.ReasonOffensive, ""},
		{"plural", "Dicks Bot", naming.ReasonOffensive, ""},
		{"whole word ass", "Kiss My Ass", naming.ReasonOffensive, ""},
		{"leet ass", "@$$ bot", naming.ReasonOffensive, ""},
		{"stretched ass", "asss", naming.ReasonOffensive, ""},
		{"1 as l", "s1ut", naming.ReasonOffensive, ""},
		{"fr", "Putain de bot", naming.ReasonOffensive, ""},
		{"fr accent", "Enculé", naming.ReasonOffensive, ""},
		{"fr leet", "m3rde", naming.ReasonOffensive, ""},
		{"es", "Bot de Mierda", naming.ReasonOffensive, ""},
		{"es accent", "Cabrón", naming.ReasonOffensive, ""},
		{"de", "Arschloch", naming.ReasonOffensive, ""},
		{"de eszett", "Scheiße", naming.ReasonOffensive, ""},
		{"de spelled", "Scheisse", naming.ReasonOffensive, ""},
		{"full width", "ｆｕｃｋ", naming.ReasonOffensive, ""},
		{"cyrillic lookalike", "fuсk", naming.ReasonOffensive, ""},

		// Impersonation.
		{"product", "Frontdesk", naming.ReasonImpersonation, "Frontdesk"},
		{"product prefix", "FrontdeskBot", naming.ReasonImpersonation, "Frontdesk"},
		{"brand word", "Zendesk Bot", naming.ReasonImpersonation, "Zendesk"},
		{"brand glued", "ZendeskBot", naming.ReasonImpersonation, "Zendesk"},
		{"brand inside", "TheZendeskHelper", naming.ReasonImpersonation, "Zendesk"},
		{"brand leet", "0penAI helper", naming.ReasonImpersonation, "OpenAI"},
		{"brand split", "Open AI Helper", naming.ReasonImpersonation, "OpenAI"},
		{"brand split 2", "Chat GPT", naming.ReasonImpersonation, "ChatGPT"},
		{"brand spelled", "G.o.o.g.l.e", naming.ReasonImpersonation, "Google"},
		{"brand 1 as l", "PayPa1 Support", naming.ReasonImpersonation, "PayPal"},
		{"brand accent", "Gøøgle", naming.ReasonImpersonation, "Google"},
		{"brand cyrillic", "Gооgle", naming.ReasonImpersonation, "Google"},
		{"brand case", "WHATSAPP", naming.ReasonImpersonation, "WhatsApp"},
		{"brand peer", "Pipedrive LeadBooster", naming.ReasonImpersonation, "Pipedrive"},
		{"fiverr", "Fiverr Assistant", naming.ReasonImpersonation, "Fiverr"},
		{"ordinary-word brand", "Apple", naming.ReasonImpersonation, "Apple"},
		{"ordinary-word brand with bot word", "AppleSupport", naming.ReasonImpersonation, "Apple"},
		{"meta ai", "Meta AI", naming.ReasonImpersonation, "Meta"},
		{"intercom", "Intercom Messenger", naming.ReasonImpersonation, "Intercom"},
		{"stripe", "Stripe Billing", naming.ReasonImpersonation, "Stripe"},
		{"amazon", "Amazon Help", naming.ReasonImpersonation, "Amazon"},
		{"microsoft", "Micr0s0ft Care", naming.ReasonImpersonation, "Microsoft"},
		{"facebook split", "Face Book Helper", naming.ReasonImpersonation, "Facebook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := naming.Check(tt.input)
			if tt.want == "" {
				require.NoError(t, err, "input %q", tt.input)
				return
			}
			var ne *naming.Error
			require.True(t, errors.As(err, &ne), "input %q: want %s, got %v", tt.input, tt.want, err)
			require.Equal(t, tt.want, ne.Reason, "input %q: %v", tt.input, err)
			require.Equal(t, tt.brand, ne.Brand)
			require.NotEmpty(t, ne.Message)
		})
	}
}

// The refusal of an offensive name must not print the word back: the
// message ends up in the builder, in logs and in API responses.
func TestCheckMessageDoesNotRepeatTheWord(t *testing.T) {
	t.Parallel()
	err := naming.Check("sh1t helper")
	require.Error(t, err)
	require.NotContains(t, strings.ToLower(err.Error()), "sh")
}

func ExampleCheck() {
	for _, name := range []string{"Scunthorpe Helper", "0penAI helper", "b.i.t.c.h"} {
		fmt.Printf("%s: %v\n", name, naming.Check(name))
	}
	// Output:
	// Scunthorpe Helper: <nil>
	// 0penAI helper: the name looks like "OpenAI": an assistant may not impersonate Frontdesk or another brand
	// b.i.t.c.h: the name contains a word that is not allowed
}
