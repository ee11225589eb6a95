// Package naming checks the names people give their assistants before they
// are stored and shown to visitors: a name must be 1 to 60 characters of
// printable text, must not contain an offensive word (English, French,
// Spanish or German), and must not impersonate Frontdesk itself or a
// well-known brand.
//
// Both checks look at a normalised form of the name, so that the usual
// evasions do not get through: case, accents, look-alike letters from other
// scripts, leetspeak ("sh1t", "0penAI"), letters spread out with separators
// ("b.i.t.c.h") and stretched letters ("fuuuck"). They compare whole words,
// or a word's start or end for the words that allow it, never arbitrary
// substrings of ordinary words, so that "Scunthorpe", "classic" and
// "assistant" are accepted.
package naming
