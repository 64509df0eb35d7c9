"""What a lock screen shows, for every kind of notification in every language we speak."""

from __future__ import annotations

from push.kinds import KINDS
from push.texts import FALLBACK, NEUTRAL, TEXTS, text


def test_every_kind_has_its_words_in_every_language() -> None:
    """Each kind of the registry names an entry of the texts, and that entry has a title and
    a body in each language the neutral line has; no entry is left over."""
    for name, kind in KINDS.items():
        assert kind.texts in TEXTS, name
        assert set(TEXTS[kind.texts]) == set(NEUTRAL), name
        for lang, (title, body) in TEXTS[kind.texts].items():
            assert title and body, (name, lang)
            assert text(name, lang) == (title, body)
    assert set(TEXTS) == {kind.texts for kind in KINDS.values()}
    assert FALLBACK in NEUTRAL


def test_a_locale_reads_as_its_language_and_an_unknown_one_as_english() -> None:
    """ "de-AT", "de_CH" and "DE" read as German; Portuguese, and no locale at all, as
    English."""
    for locale in ("de-AT", "de_CH", "DE", "de"):
        assert text("pause_started", locale) == TEXTS["pause_started"]["de"]
    for locale in ("pt-BR", None, ""):
        assert text("pause_started", locale) == TEXTS["pause_started"]["en"]


def test_the_neutral_line_is_the_same_for_every_kind_and_names_nothing() -> None:
    """Discreet, every kind reads as one line in the device's language (English when there
    is none of ours), naming neither a partner nor what happened."""
    told_of = {
        word.lower().strip(".,'")
        for by_language in TEXTS.values()
        for title, body in by_language.values()
        for word in f"{title} {body}".split()
        if len(word) > 4
    }
    for kind in KINDS:
        for locale, lang in [("de-AT", "de"), ("es_ES", "es"), ("FR", "fr"), ("pt-BR", "en")]:
            assert text(kind, locale, discreet=True) == NEUTRAL[lang]
        assert text(kind, None, discreet=True) == NEUTRAL["en"]
        assert text(kind, "de", discreet=False) == TEXTS[KINDS[kind].texts]["de"]
    assert set(NEUTRAL) == {lang for by_language in TEXTS.values() for lang in by_language}
    for title, body in NEUTRAL.values():
        assert body == ""
        assert not {w.lower() for w in title.split()} & told_of, title
