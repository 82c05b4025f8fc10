"""axe-core in the page: WCAG 2.2 A and AA rules, failing on serious or critical violations.

The IdP's CSP (script-src 'self') forbids inline scripts, so axe is not added as a <script>
tag: Playwright evaluates its source through the DevTools protocol, which CSP does not
govern. The page under test keeps its real CSP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

AXE_SOURCE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2 added only AA rules to axe: target-size).
WCAG_22_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = ("serious", "critical")

RUN_AXE = """async (tags) => {
    const results = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
    return results.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        helpUrl: violation.helpUrl,
        targets: violation.nodes.map((node) => node.target.join(" ")),
        summaries: violation.nodes.map((node) => node.failureSummary),
    }));
}"""


@dataclass(frozen=True)
class AxeChecker:
    source: str

    @classmethod
    def load(cls) -> AxeChecker:
        if not AXE_SOURCE.is_file():
            raise AssertionError(
                f"axe-core is missing ({AXE_SOURCE}); run `cd tests/browser && npm ci --no-audit --no-fund`"
            )
        return cls(AXE_SOURCE.read_text(encoding="utf-8"))

    def violations(self, page: Page) -> list[dict]:
        """Every WCAG 2.2 A/AA violation on the page as it is now, whatever its impact.

        Waits for the page's load event first: measured before its stylesheets apply, the
        header's links are bare inline text and fail target-size (seen once in CI)."""
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            # A trailing statement keeps the evaluated text an expression, not a function.
            page.evaluate(self.source + "\n;undefined")
        return page.evaluate(RUN_AXE, WCAG_22_AA_TAGS)

    def assert_accessible(self, page: Page, what: str = "") -> None:
        """Fail with a readable report if axe finds a serious or critical violation."""
        blocking = [v for v in self.violations(page) if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            raise AssertionError(format_report(what or page.url, blocking))


def format_report(what: str, violations: list[dict]) -> str:
    lines = [f"axe-core: {len(violations)} serious or critical WCAG 2.2 A/AA violation(s) on {what}:"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for target, summary in zip(violation["targets"], violation["summaries"], strict=True):
            detail = " ".join((summary or "").split())
            lines.append(f"    at {target}: {detail}")
    return "\n".join(lines)
