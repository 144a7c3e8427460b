"""Entry filters run on RE2, and the depth bound on untrusted HTML."""

from __future__ import annotations

import pytest

from digests.feeds import FeedParseError, compile_filter, plain_text, sanitize_html
from digests.filters import MAX_MEMORY, RegexRefused, compile_regex
from digests.safehtml import MAX_DEPTH, bounded, too_deep


def test_a_regex_filter_is_case_insensitive_and_linear() -> None:
    matches = compile_filter("/appel (à|a) projets/")
    assert matches is not None
    assert matches("Nouvel APPEL À PROJETS mobilité") and not matches("appel d'offres")
    catastrophic = compile_filter("/(a+)+$/")
    assert catastrophic is not None
    # Exponential for a backtracking engine; RE2 answers at once (Python's re would not).
    assert not catastrophic("a" * 5_000 + "\nb")
    assert compile_regex(r"\pL+é")("Vélo")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(vélo) \1", "backreference"),
        (r"(?P<m>vélo) (?P=m)", "backreference"),
        (r"(?=vélo)", "lookaround"),
        (r"(?!vélo)bus", "lookaround"),
        (r"(?<=le )vélo", "lookaround"),
        (r"(?<!le )vélo", "lookaround"),
        (r"(?>vélo)", "atomic"),
        (r"vélo++", "atomic"),
        (r"(x{500}){500}", "too_large"),
        (r"x{1001}", "too_large"),
        (r"(", "syntax"),
    ],
)
def test_what_re2_refuses_is_named(pattern: str, reason: str) -> None:
    with pytest.raises(RegexRefused) as refused:
        compile_regex(pattern)
    assert refused.value.reason == reason
    with pytest.raises(FeedParseError) as error:
        compile_filter(f"/{pattern}/")
    assert error.value.code == "bad_filter"
    assert isinstance(error.value.__cause__, RegexRefused)


def test_a_pattern_needing_more_memory_than_allowed_is_too_large() -> None:
    assert MAX_MEMORY <= 8 * 1024 * 1024
    with pytest.raises(RegexRefused) as refused:
        compile_regex(r"(?:[\pL\d]{50}){20}")
    assert refused.value.reason == "too_large"


def test_html_nested_too_deep_is_flattened_before_nh3() -> None:
    deep = "<div>" * 100_000 + "Au <b>fond</b> &amp; après." + "</div>" * 100_000
    assert too_deep(deep)
    assert bounded(deep) == "Au fond &amp; après."
    assert sanitize_html(deep) == "Au fond &amp; après."
    assert plain_text(deep) == "Au fond & après."
    shallow = "<div>" * MAX_DEPTH + "x" + "</div>" * MAX_DEPTH
    assert not too_deep(shallow) and bounded(shallow) == shallow
    # Elements that close themselves or are closed by a sibling do not nest.
    flat = "<p>un<br>" * 10_000 + "<li>deux" * 10_000 + "<tr><td>trois" * 10_000
    assert not too_deep(flat)
    assert too_deep("<ul>" * (MAX_DEPTH + 1)) and too_deep("<span>" * (MAX_DEPTH + 1))
