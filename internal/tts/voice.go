package tts

import "strings"

// bandwidthVoice is a Bandwidth voice: the espeak-ng language of its
// locale and the espeak-ng variant that stands in for it.
type bandwidthVoice struct {
	lang, variant string
}

// voices maps every Bandwidth SpeakSentence voice, standard and enhanced,
// to espeak-ng. Voices of one locale get different variants of the same
// gender; the default voice of a locale and gender uses +f3 or +m3.
var voices = map[string]bandwidthVoice{
	// en_US
	"susan": {"en-us", "f3"}, "julie": {"en-us", "f2"}, "kate": {"en-us", "f4"}, "ruth": {"en-us", "f1"},
	"paul": {"en-us", "m3"}, "dave": {"en-us", "m1"}, "stephen": {"en-us", "m2"},
	// en_UK
	"bridget": {"en-gb", "f3"}, "simon": {"en-gb", "m3"},
	// de_DE
	"katrin": {"de", "f3"}, "stefan": {"de", "m3"},
	// es_ES
	"esperanza": {"es", "f3"}, "violeta": {"es", "f2"}, "jorge": {"es", "m3"},
	// es_MX and es_US: espeak-ng's Latin American Spanish
	"rosa": {"es-419", "f3"}, "lupe": {"es-419", "f2"}, "pedro": {"es-419", "m3"},
	// fr_FR, and fr_CA (espeak-ng has no Canadian French)
	"jolie": {"fr-fr", "f3"}, "bernard": {"fr-fr", "m3"}, "gabrielle": {"fr-fr", "f2"}, "liam": {"fr-fr", "m2"},
	// it_IT
	"paola": {"it", "f3"}, "luca": {"it", "m3"},
	// ja_JP
	"masako": {"ja", "f3"}, "kenji": {"ja", "m3"},
	// ru_RU
	"nadiya": {"ru", "f3"}, "anatoli": {"ru", "m3"},
	// arb
	"zeina": {"ar", "f3"},
	// cmn-CN
	"zhiyu": {"cmn", "f3"},
}

// localeAliases maps locales whose espeak-ng language is not their own
// name (after lower-casing and turning _ into -).
var localeAliases = map[string]string{
	"en": "en-us", "en-uk": "en-gb", "en-au": "en-gb", "en-nz": "en-gb", "en-ie": "en-gb",
	"en-in": "en-gb", "en-za": "en-gb", "en-ca": "en-us",
	"es-es": "es", "es-mx": "es-419", "es-us": "es-419",
	"fr": "fr-fr", "fr-ca": "fr-fr",
	"pt-pt": "pt",
	"arb":   "ar",
	"zh":    "cmn", "zh-cn": "cmn", "cmn-cn": "cmn", "zh-tw": "cmn", "zh-hk": "yue",
	"no": "nb", "nb-no": "nb",
}

// espeakLanguages is every language espeak-ng 1.51 lists in --voices.
var espeakLanguages = func() map[string]bool {
	m := make(map[string]bool)
	for _, l := range strings.Fields(`af am an ar as az ba be bg bn bpy bs ca chr-us-qaaa-x-west cmn
		cmn-latn-pinyin cs cv cy da de el en-029 en-gb en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd
		en-gb-x-rp en-us en-us-nyc eo es es-419 et eu fa fa-latn fi fr-be fr-ch fr-fr ga gd gn grc gu
		hak haw he hi hr ht hu hy hyw ia id io is it ja jbo ka kk kl kn ko kok ku ky la lb lfn lt ltg
		lv mi mk ml mr ms mt my nb nci ne nl nog om or pa pap piqd pl pt pt-br py qdb qu quc qya ro ru
		ru-lv sd shn si sjn sk sl smj sq sr sv sw ta te th tk tn tr tt ug uk ur uz vi vi-vn-x-central
		vi-vn-x-south yue`) {
		m[l] = true
	}
	return m
}()

// EspeakVoice returns the espeak-ng voice (language+variant, as -v takes
// it) for a SpeakSentence's voice, locale and gender attributes.
//
// A Bandwidth voice name (susan, paul, bridget, rosa, …, any case) picks
// its locale's language and a variant of its gender, and overrides locale
// and gender, as in Bandwidth. Otherwise the locale (default en_US) picks
// the language: en_US → en-us, es_MX (and any Spanish but Spain's) →
// es-419, fr_FR → fr-fr, de_DE → de,
// pt_BR → pt-br, or any language espeak-ng knows, falling back to the part
// before the underscore and then to en-us; and the gender (default female;
// "male" for male) picks the locale's default voice, +f3 or +m3. So an
// unknown voice name gets the default voice of the locale and gender.
func EspeakVoice(voice, locale, gender string) string {
	if v, ok := voices[strings.ToLower(strings.TrimSpace(voice))]; ok {
		return v.lang + "+" + v.variant
	}
	variant := "f3"
	if strings.EqualFold(strings.TrimSpace(gender), "male") {
		variant = "m3"
	}
	return espeakLanguage(locale) + "+" + variant
}

func espeakLanguage(locale string) string {
	l := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(locale)), "_", "-")
	if l == "" {
		return "en-us"
	}
	lang := strings.SplitN(l, "-", 2)[0]
	if lang == "es" && l != "es" && l != "es-es" {
		return "es-419" // Spanish of the Americas
	}
	for _, try := range []string{l, lang} {
		if a, ok := localeAliases[try]; ok {
			return a
		}
		if espeakLanguages[try] {
			return try
		}
	}
	return "en-us"
}
