package tts_test

import (
	"testing"

	"github.com/voicehook/voicehook/internal/tts"
)

func TestEspeakVoice(t *testing.T) {
	cases := []struct {
		voice, locale, gender string
		want                  string
	}{
		{"", "", "", "en-us+f3"}, // Bandwidth's defaults: en_US, female
		{"", "", "male", "en-us+m3"},
		{"", "", "MALE", "en-us+m3"},
		{"", "", "female", "en-us+f3"},
		{"", "", "robot", "en-us+f3"},
		{"susan", "", "", "en-us+f3"},
		{"julie", "", "", "en-us+f2"},
		{"kate", "", "", "en-us+f4"},
		{"Paul", "", "", "en-us+m3"},
		{"dave", "", "", "en-us+m1"},
		{"paul", "de_DE", "female", "en-us+m3"}, // a voice overrides locale and gender
		{"bridget", "", "", "en-gb+f3"},
		{"simon", "", "", "en-gb+m3"},
		{"katrin", "", "", "de+f3"},
		{"stefan", "", "", "de+m3"},
		{"esperanza", "", "", "es+f3"},
		{"jorge", "", "", "es+m3"},
		{"rosa", "", "", "es-419+f3"},
		{"jolie", "", "", "fr-fr+f3"},
		{"bernard", "", "", "fr-fr+m3"},
		{"paola", "", "", "it+f3"},
		{"luca", "", "", "it+m3"},
		{"masako", "", "", "ja+f3"},
		{"kenji", "", "", "ja+m3"},
		{"nadiya", "", "", "ru+f3"},
		{"anatoli", "", "", "ru+m3"},
		{"zeina", "", "", "ar+f3"},
		{"zhiyu", "", "", "cmn+f3"},
		{"gabrielle", "", "", "fr-fr+f2"},
		{"pedro", "", "", "es-419+m3"},
		{"nobody", "fr_FR", "male", "fr-fr+m3"}, // unknown voice: the locale's default
		{"nobody", "", "", "en-us+f3"},
		{"", "en_US", "", "en-us+f3"},
		{"", "en_UK", "male", "en-gb+m3"},
		{"", "en_GB", "", "en-gb+f3"},
		{"", "en_AU", "", "en-gb+f3"},
		{"", "es_MX", "", "es-419+f3"},
		{"", "es_AR", "male", "es-419+m3"},
		{"", "es_ES", "", "es+f3"},
		{"", "fr_FR", "", "fr-fr+f3"},
		{"", "fr_CA", "", "fr-fr+f3"},
		{"", "fr_BE", "", "fr-be+f3"},
		{"", "de_DE", "male", "de+m3"},
		{"", "it_IT", "", "it+f3"},
		{"", "pt_BR", "", "pt-br+f3"},
		{"", "pt_PT", "", "pt+f3"},
		{"", "nl_NL", "", "nl+f3"},
		{"", "ja_JP", "", "ja+f3"},
		{"", "cmn-CN", "", "cmn+f3"},
		{"", "arb", "", "ar+f3"},
		{"", "xx_YY", "", "en-us+f3"}, // unknown locale: en_US
		{"", "en-us; rm -rf /", "", "en-us+f3"},
	}
	for _, tc := range cases {
		if got := tts.EspeakVoice(tc.voice, tc.locale, tc.gender); got != tc.want {
			t.Errorf("EspeakVoice(%q, %q, %q) = %q, want %q", tc.voice, tc.locale, tc.gender, got, tc.want)
		}
	}
}
