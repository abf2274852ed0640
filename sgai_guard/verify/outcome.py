"""What a verification run found: a verdict per fingerprint, counts, and plain summaries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from sgai_guard.models import Finding, Verdict, Verification


class VerifyOutcome(NamedTuple):
    verdicts: dict[str, Verification]  # by Finding.fingerprint
    interrupted: bool = False  # Ctrl-C: unfinished checks say "interrupted"

    @property
    def checked(self) -> int:
        return len(self.verdicts)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for v in self.verdicts.values() if v.verdict is verdict)

    @property
    def live(self) -> int:
        return self.count(Verdict.LIVE)

    @property
    def dead(self) -> int:
        return self.count(Verdict.DEAD)

    @property
    def unknown(self) -> int:
        return self.count(Verdict.UNKNOWN)

    @property
    def all_failed(self) -> bool:
        """Every check ended without a verdict (offline, blocked, rate limited...)."""
        return self.checked > 0 and self.unknown == self.checked

    def summary(self) -> str:
        """One line for the end of a report: "verified 3 keys: 1 live, 1 dead, 1 unknown"."""
        noun = "key" if self.checked == 1 else "keys"
        text = f"verified {self.checked} {noun}: {self.live} live, {self.dead} dead, "
        text += f"{self.unknown} unknown"
        return text + (" (interrupted)" if self.interrupted else "")

    def failure_message(self) -> str | None:
        """A plain sentence when every verification failed, naming the commonest reasons."""
        if not self.all_failed:
            return None
        reasons = Counter(v.reason for v in self.verdicts.values()).most_common(3)
        why = "; ".join(f"{reason} ({n})" for reason, n in reasons)
        return (
            f"every verification failed: none of the {self.checked} keys got a verdict "
            f"({why}). Their status is unknown, not dead: treat them as live."
        )


def apply(findings: Iterable[Finding], verdicts: Mapping[str, Verification]) -> tuple[Finding, ...]:
    """``findings`` with their verdicts set; a finding without one is left as it is."""
    return tuple(
        f._replace(verification=verdicts[f.fingerprint]) if f.fingerprint in verdicts else f
        for f in findings
    )
