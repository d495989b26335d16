import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core run inside the page: its serious and critical violations, each with the first element and why.
 * The page must be opened with `bypassCSP: true` (the pages' CSP refuses the injected script, rightly).
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    type Violation = { id: string; impact: string; nodes: { target: unknown; failureSummary: string }[] };
    const results = await (window as unknown as { axe: { run(c: Document): Promise<{ violations: Violation[] }> } }).axe.run(document);
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      first: `${JSON.stringify(v.nodes[0]?.target)} ${v.nodes[0]?.failureSummary}`,
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes} elements; ${v.first})`);
}
