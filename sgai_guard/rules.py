"""The two providers and their rules, as data. Adding a provider means adding constants here."""

from __future__ import annotations

from sgai_guard.models import Confidence, Provider, Rule, Technique

TAVILY = Provider(
    id="tavily",
    name="Tavily",
    env_var="TAVILY_API_KEY",
    dashboard="https://app.tavily.com",
    docs="https://docs.tavily.com/documentation/best-practices/api-key-management",
    remediation=(
        "Revoke the key first: sign in at https://app.tavily.com, open API Keys, and delete "
        "or revoke this key. Deleting it from git history does not make a pushed key safe.",
        "Create a replacement key on the same page and put it in the TAVILY_API_KEY "
        "environment variable or your secret store; the Tavily SDKs read TAVILY_API_KEY, "
        "so the code needs no literal key.",
        "Check the usage page for requests you do not recognise; for unusual usage before "
        "the revocation, write to support@tavily.com.",
        "To rotate a key still in use without downtime: create the new key, deploy it, "
        "verify it works, then delete the old one (Tavily suggests about every 90 days).",
        "Only after revoking, remove the key from history if the repository needs it.",
    ),
)

SCRAPEGRAPHAI = Provider(
    id="scrapegraphai",
    name="ScrapeGraphAI",
    env_var="SGAI_API_KEY",
    dashboard="https://scrapegraphai.com/dashboard",
    docs="https://docs.scrapegraphai.com/knowledge-base/account/api-keys",
    remediation=(
        "Regenerate the key first: in https://scrapegraphai.com/dashboard open Settings, "
        "API Key, and choose Regenerate API Key. Copy the new key at once: it is shown once.",
        "The old key stops working immediately (401) and an account has one key, so update "
        "every service that uses it in the same change window.",
        "Store the new key in the SGAI_API_KEY environment variable or your secret store; "
        "the ScrapeGraphAI SDKs read SGAI_API_KEY, so the code needs no literal key.",
        "Check the dashboard's credit usage for spend you do not recognise.",
        "Only after regenerating, remove the key from history if the repository needs it: "
        "rewriting history does not make a pushed key safe.",
    ),
)

# A key ends where the next character cannot belong to it, or where the next key's prefix
# starts (keys pasted back to back). No boundary is demanded before "tvly-": real keys follow
# %22, %3D, = and escaped quotes.
KEY_END = rb"(?:(?![A-Za-z0-9_-])|(?=tvly-|sgai-))"
_TAVILY_BODY = (
    rb"(?:(?:dev|prod)-[A-Za-z0-9]{4,8}-[A-Za-z0-9]{36,48}|(?:(?:dev|prod)-)?[A-Za-z0-9]{32})"
)
_UUID = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


# Base64 text that encodes "tvly-" / "sgai-" at each of the three byte alignments, keeping only
# the characters fully determined by the prefix: a key encoded anywhere inside a larger base64
# string shows one of these. Literal so that no base64 import sits on the hook's start-up path;
# tests check them against base64 itself.
TAVILY_B64 = (b"dHZseS", b"R2bHkt", b"0dmx5L")
SGAI_B64 = (b"c2dhaS", b"NnYWkt", b"zZ2FpL")


TAVILY_KEY = Rule(
    id="tavily-api-key",
    name="Tavily API key",
    provider=TAVILY,
    technique=Technique.PREFIXED,
    pattern=rb"(?P<key>tvly-" + _TAVILY_BODY + rb")" + KEY_END,
    keywords=(b"tvly-",),
    confidence=Confidence.HIGH,
    body_check="tavily",
)

SGAI_KEY = Rule(
    id="scrapegraphai-api-key",
    name="ScrapeGraphAI API key",
    provider=SCRAPEGRAPHAI,
    technique=Technique.PREFIXED,
    pattern=rb"(?P<key>sgai-" + _UUID + rb")" + KEY_END,
    keywords=(b"sgai-",),
    confidence=Confidence.HIGH,
    body_check="hex",
)

SGAI_HEX_KEY = Rule(
    id="scrapegraphai-api-key-hex",
    name="ScrapeGraphAI API key (32-hex form)",
    provider=SCRAPEGRAPHAI,
    technique=Technique.PREFIXED,
    pattern=rb"(?P<key>sgai-[0-9a-f]{32})" + KEY_END,
    keywords=(b"sgai-",),
    confidence=Confidence.LOW,
    body_check="hex",
)

# Names the providers' SDKs, docs and leaks use for the key; the value after them may lack
# the prefix. Case variants are listed because the prefilter is case-sensitive.
_ASSIGN = rb"""\s*["']?\s*(?:[:=]|=>|:=)\s*(?:Bearer\s+)?["'`]?(?!tvly-|sgai-)"""
TAVILY_ASSIGNED = Rule(
    id="tavily-api-key-assigned",
    name="Tavily API key without prefix, assigned to a Tavily name",
    provider=TAVILY,
    technique=Technique.ASSIGNED,
    pattern=(
        rb"(?i:tavily[_-]?(?:api[_-]?)?keys?(?:[_-]?\d+)?)"
        + _ASSIGN
        + rb"(?P<key>(?:(?:dev|prod)-)?(?:[A-Za-z0-9]{4,8}-)?[A-Za-z0-9]{32,48})"
        + rb"(?![A-Za-z0-9_./+=-])"
    ),
    keywords=(b"TAVILY", b"tavily", b"Tavily"),
    confidence=Confidence.MEDIUM,
    body_check="tavily",
)

SGAI_ASSIGNED = Rule(
    id="scrapegraphai-api-key-assigned",
    name="ScrapeGraphAI API key without prefix, assigned to a ScrapeGraphAI name",
    provider=SCRAPEGRAPHAI,
    technique=Technique.ASSIGNED,
    pattern=(
        rb"(?i:(?:sgai|scrapegraph(?:ai)?)[_-]?api[_-]?key)"
        + _ASSIGN
        + rb"(?P<key>"
        + _UUID
        + rb"|[0-9a-f]{32})(?![A-Za-z0-9_./+=-])"
    ),
    keywords=(
        b"SGAI",
        b"sgai",
        b"Sgai",
        b"SCRAPEGRAPH",
        b"scrapegraph",
        b"Scrapegraph",
        b"ScrapeGraph",
    ),
    confidence=Confidence.MEDIUM,
    body_check="hex",
)

# Base64 and split rules re-run the prefixed rules on decoded or joined text.
TAVILY_BASE64 = Rule(
    id="tavily-api-key-base64",
    name="Tavily API key, base64-encoded",
    provider=TAVILY,
    technique=Technique.BASE64,
    pattern=TAVILY_KEY.pattern,
    keywords=TAVILY_B64,
    confidence=Confidence.MEDIUM,
    body_check="tavily",
)

SGAI_BASE64 = Rule(
    id="scrapegraphai-api-key-base64",
    name="ScrapeGraphAI API key, base64-encoded",
    provider=SCRAPEGRAPHAI,
    technique=Technique.BASE64,
    pattern=SGAI_KEY.pattern,
    keywords=SGAI_B64,
    confidence=Confidence.MEDIUM,
    body_check="hex",
)

TAVILY_SPLIT = Rule(
    id="tavily-api-key-split",
    name="Tavily API key split across a string concatenation",
    provider=TAVILY,
    technique=Technique.SPLIT,
    pattern=TAVILY_KEY.pattern,
    keywords=(b"tvly-",),
    confidence=Confidence.MEDIUM,
    body_check="tavily",
)

SGAI_SPLIT = Rule(
    id="scrapegraphai-api-key-split",
    name="ScrapeGraphAI API key split across a string concatenation",
    provider=SCRAPEGRAPHAI,
    technique=Technique.SPLIT,
    pattern=SGAI_KEY.pattern,
    keywords=(b"sgai-",),
    confidence=Confidence.MEDIUM,
    body_check="hex",
)

RULES: tuple[Rule, ...] = (
    TAVILY_KEY,
    SGAI_KEY,
    SGAI_HEX_KEY,
    TAVILY_ASSIGNED,
    SGAI_ASSIGNED,
    TAVILY_BASE64,
    SGAI_BASE64,
    TAVILY_SPLIT,
    SGAI_SPLIT,
)

# Static parts of a key that redaction may show: the longest that matches wins.
SHOWN_PREFIXES: tuple[str, ...] = ("tvly-dev-", "tvly-prod-", "tvly-", "sgai-")
