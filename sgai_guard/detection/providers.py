"""The providers sgai-guard knows, each one unit of data: rules, redaction, keywords in every
encoding, live checks and remediation texts are all derived from these (see rules.py)."""

from __future__ import annotations

from sgai_guard.detection.entropy import hex_body, tavily_body
from sgai_guard.models import Confidence, KeyShape, Provider

_UUID = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

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
    prefix="tvly-",
    tags=("dev-", "prod-"),
    shapes=(
        KeyShape(
            "Tavily API key",
            rb"(?:(?:dev|prod)-[A-Za-z0-9]{4,8}-[A-Za-z0-9]{36,48}|(?:(?:dev|prod)-)?[A-Za-z0-9]{32})",
            Confidence.HIGH,
        ),
    ),
    names=rb"tavily[_-]?(?:api[_-]?)?keys?(?:[_-]?\d+)?",
    bare=rb"(?:(?:dev|prod)-)?(?:[A-Za-z0-9]{4,8}-)?[A-Za-z0-9]{32,48}",
    name_keywords=(b"TAVILY", b"tavily", b"Tavily"),
    check=tavily_body,
    verifier="tavily",
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
    prefix="sgai-",
    shapes=(
        KeyShape("ScrapeGraphAI API key", _UUID, Confidence.HIGH),
        KeyShape("ScrapeGraphAI API key (32-hex form)", rb"[0-9a-f]{32}", Confidence.LOW, "hex"),
    ),
    names=rb"(?:sgai|scrapegraph(?:ai)?)[_-]?api[_-]?key",
    bare=_UUID + rb"|[0-9a-f]{32}",
    name_keywords=(
        b"SGAI",
        b"sgai",
        b"Sgai",
        b"SCRAPEGRAPH",
        b"scrapegraph",
        b"Scrapegraph",
        b"ScrapeGraph",
    ),
    check=hex_body,
    verifier="scrapegraphai",
)

PROVIDERS: tuple[Provider, ...] = (TAVILY, SCRAPEGRAPHAI)
