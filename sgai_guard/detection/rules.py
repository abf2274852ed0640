"""Rules derived from the providers (providers.py): every pattern, keyword in every encoding,
boundary and redaction prefix comes from a provider's data, so a new provider needs no code."""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence

from sgai_guard.detection.providers import PROVIDERS, SCRAPEGRAPHAI, TAVILY
from sgai_guard.models import Confidence, Provider, Rule, Technique

__all__ = ["PROVIDERS", "RULES", "SCRAPEGRAPHAI", "SHOWN_PREFIXES", "TAVILY", "rules_for"]

# A value assigned to a name ends here: not before more of a token (base64's +/=, a path's
# / or a name's .ext), but before a full stop that ends the sentence (`TAVILY_API_KEY=<key>.`
# was no key: a review); an ellipsis (a key cut short) or `..` runs on (a second review).
_NOT_KEY = rb"(?![A-Za-z0-9_/+=-])(?!\.[A-Za-z0-9_./+=-])"


def _prefixes(providers: Sequence[Provider]) -> bytes:
    return b"|".join(re.escape(p.prefix.encode()) for p in providers)


def key_end(providers: Sequence[Provider]) -> bytes:
    """A key ends where the next character cannot belong to it, or where the next key's prefix
    starts (keys pasted back to back). No boundary is demanded before a prefix: real keys
    follow %22, %3D, = and escaped quotes."""
    return rb"(?:(?![A-Za-z0-9_-])|(?=" + _prefixes(providers) + rb"))"


def _assign(providers: Sequence[Provider]) -> bytes:
    """Between a name and the value assigned to it; a prefixed value is the plain rule's."""
    return rb"""\s*["']?\s*(?:[:=]|=>|:=)\s*(?:Bearer\s+)?["'`]?(?!""" + _prefixes(providers) + b")"


def base64_fragments(prefix: bytes) -> tuple[bytes, ...]:
    """The base64 text the prefix shows at each of the three byte alignments, keeping only the
    characters the prefix alone decides: a key encoded anywhere in a longer base64 string shows
    one of these."""
    out = []
    for skip in range(3):
        encoded = binascii.b2a_base64(bytes(skip) + prefix + bytes(3), newline=False)
        first = -(-8 * skip // 6)  # the first character wholly inside the prefix
        last = (8 * (skip + len(prefix))) // 6  # one past the last one
        out.append(encoded[first:last])
    return tuple(out)


# Encodings in which an ASCII key is no key in the raw bytes, each with how many bytes a
# character takes: UTF-16 and UTF-32 (either byte order), and EBCDIC (letters, digits and
# "-" are the same in every EBCDIC code page; found by a review: a checkout's UTF-32 and
# EBCDIC files, written so by `working-tree-encoding`, passed with exit 0).
ENCODINGS = {"utf-16-le": 2, "utf-32-le": 4, "cp037": 1}


def encoded_keyword(prefix: bytes, encoding: str) -> bytes:
    """The prefix as ``encoding`` writes it, without what comes before its first character
    or after its last: so one literal finds it in either byte order."""
    if encoding == "cp037":
        return prefix.decode("ascii").encode("cp037")
    nuls = b"\0" * (ENCODINGS[encoding] - 1)
    return nuls.join(prefix[i : i + 1] for i in range(len(prefix)))


def encoded_keywords(prefix: bytes) -> dict[bytes, str]:
    """The prefix in each of ``ENCODINGS``, and the encoding."""
    return {encoded_keyword(prefix, encoding): encoding for encoding in ENCODINGS}


def rules_for(provider: Provider, providers: Sequence[Provider] = PROVIDERS) -> tuple[Rule, ...]:
    """The provider's rules, in technique order; ``providers``: every provider scanned for,
    whose prefixes end a key."""
    return tuple(r for technique in Technique for r in _all(provider, providers, technique))


def _all(provider: Provider, providers: Sequence[Provider], technique: Technique) -> list[Rule]:
    prefix = provider.prefix.encode()
    end = key_end(providers)
    plain = [
        Rule(
            id=f"{provider.id}-api-key" + (f"-{shape.suffix}" if shape.suffix else ""),
            name=shape.name,
            provider=provider,
            technique=Technique.PREFIXED,
            pattern=rb"(?P<key>" + re.escape(prefix) + shape.body + rb")",
            keywords=(prefix,),
            confidence=shape.confidence,
            end=end,
        )
        for shape in provider.shapes
    ]
    if technique is Technique.PREFIXED:
        return plain
    if technique is Technique.ASSIGNED:
        return [_assigned(provider, providers)] if provider.names else []
    main = plain[0]
    if technique is Technique.BASE64:
        suffix, name, keywords = "base64", f"{main.name}, base64-encoded", base64_fragments(prefix)
    else:
        suffix, name = "split", f"{main.name} split across a string concatenation"
        keywords = (prefix,)
    return [
        main._replace(
            id=f"{main.id}-{suffix}",
            name=name,
            technique=technique,
            keywords=keywords,
            confidence=Confidence.MEDIUM,
        )
    ]


def _assigned(provider: Provider, providers: Sequence[Provider]) -> Rule:
    return Rule(
        id=f"{provider.id}-api-key-assigned",
        name=f"{provider.name} API key without prefix, assigned to a {provider.name} name",
        provider=provider,
        technique=Technique.ASSIGNED,
        pattern=b"".join(
            (
                rb"(?i:",
                provider.names,
                rb")",
                _assign(providers),
                rb"(?P<key>",
                provider.bare,
                rb")",
            )
        ),
        keywords=provider.name_keywords,
        confidence=Confidence.MEDIUM,
        end=_NOT_KEY,
    )


def all_rules(providers: Sequence[Provider]) -> tuple[Rule, ...]:
    """Every provider's rules, grouped by technique (plain prefixes first)."""
    return tuple(
        r for technique in Technique for p in providers for r in _all(p, providers, technique)
    )


def shown_prefixes(provider: Provider) -> tuple[str, ...]:
    """What redaction may show of a key: the prefix, with its environment tag when there is
    one; the longest that matches wins."""
    return (*(provider.prefix + tag for tag in provider.tags), provider.prefix)


RULES: tuple[Rule, ...] = all_rules(PROVIDERS)
SHOWN_PREFIXES: tuple[str, ...] = tuple(s for p in PROVIDERS for s in shown_prefixes(p))
TAVILY_B64, SGAI_B64 = (base64_fragments(p.prefix.encode()) for p in PROVIDERS)
