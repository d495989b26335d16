import { toLocal } from '../../shared/time.js';
import { page } from '../form-page.js';
import { esc } from '../../shared/html.js';
import { dayLabel, timeRange } from '../slot-label.js';
import { explain } from './explain.js';
import type { FormFromText } from './form-from-text.js';

export interface NewFormFields {
  text: string;
  timeZone: string;
  /** The staff API token typed into the page (empty when it came in an Authorization header). */
  token: string;
}

export interface NewFormProblem {
  summary: string;
  /** Phrases of the sentence that were not read, or parts that are missing or conflicting. */
  items?: string[];
}

/**
 * The staff "new form from a sentence" page: one sentence, an optional zone, the staff API token
 * (unless sent as an Authorization header); Preview shows the slots, Create makes the draft.
 */
export function renderNewFormPage(
  fields: NewFormFields,
  options: { tokenInHeader: boolean; preview?: FormFromText; problem?: NewFormProblem },
): string {
  const { preview, problem } = options;
  const tokenField = options.tokenInHeader
    ? ''
    : `<div class="field"><label for="token">Staff API token</label>
<input id="token" name="token" type="password" value="${esc(fields.token)}" autocomplete="off" required></div>`;
  const body = `
<h1>New form from a sentence</h1>
<p class="hint">Staff only. Describe the signup sheet in one sentence, e.g. <em>1-1 soccer coaching, 5-9pm, Mon/Wed, 1h slots, next 2 weeks, Eastern</em>. Preview shows every slot; Create makes a draft form.</p>
${problem ? problemBox(problem) : ''}
<form method="post" action="/forms/new">
${tokenField}
<div class="field"><label for="text">Sentence</label>
<textarea id="text" name="text" rows="3" required>${esc(fields.text)}</textarea></div>
<div class="field"><label for="timeZone">Time zone if the sentence names none (optional, IANA)</label>
<input id="timeZone" name="timeZone" type="text" value="${esc(fields.timeZone)}" placeholder="America/New_York"></div>
<button type="submit" name="action" value="preview">Preview</button>
${preview ? '<button type="submit" name="action" value="create" class="secondary">Create draft form</button>' : ''}
</form>
${preview ? previewSection(preview) : ''}`;
  return page('New form from a sentence', `${body}<style>${EXTRA_STYLE}</style>`);
}

/** After Create: the draft's address and its slot count. */
export function renderCreatedPage(result: FormFromText): string {
  const form = result.form!;
  const body = `
<h1>Draft form created</h1>
<p role="status"><strong>${esc(form.title)}</strong> is a draft with ${result.slots.length} slot(s) in ${esc(form.timeZone)}: <a href="/form/${esc(form.slug)}">/form/${esc(form.slug)}</a>. Publish it (publishForm) to open signups.</p>
<p class="hint">${esc(explain(result))}</p>
<p><a href="/forms/new">Another form</a></p>`;
  return page(`Created: ${form.title}`, body);
}

function previewSection(r: FormFromText): string {
  const tz = r.extracted.timeZone;
  const days = new Map<string, { legend: string; items: string[] }>();
  for (const slot of r.slots) {
    const date = toLocal(slot.startAt, tz).date;
    const day = days.get(date) ?? { legend: dayLabel(slot.startAt, tz), items: [] };
    day.items.push(`<li>${esc(timeRange(slot.startAt, slot.endAt, tz))} <span class="places">${esc(slot.startAt.toISOString())}</span></li>`);
    days.set(date, day);
  }
  const list = [...days.values()].map((d) => `<fieldset class="day"><legend>${esc(d.legend)}</legend><ul>${d.items.join('')}</ul></fieldset>`);
  const understood = r.extracted.understood.map((u) => `<li>${u.phrase ? `<q>${esc(u.phrase)}</q>: ` : ''}${esc(u.meaning)}</li>`).join('');
  return `<section aria-labelledby="preview-heading">
<h2 id="preview-heading">Preview: ${r.slots.length} slot(s) of “${esc(r.extracted.title)}”</h2>
<p class="notice" role="status">${esc(explain(r))}</p>
<h3>What was understood</h3><ul class="understood">${understood}</ul>
<h3>Slots (times in ${esc(tz)}; UTC beside)</h3>
${list.join('\n')}
</section>`;
}

function problemBox(problem: NewFormProblem): string {
  const items = problem.items?.length ? `<ul>${problem.items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : '';
  return `<div class="error-summary" role="alert" id="error-summary"><h2>There is a problem</h2><p>${esc(problem.summary)}</p>${items}</div>`;
}

const EXTRA_STYLE = `textarea{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;border:1px solid #6b7280;border-radius:4px}
input[type=password]{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;border:1px solid #6b7280;border-radius:4px}
button.secondary{background:#047857;margin-left:.5rem}.understood{font-size:.9rem}fieldset.day ul{margin:.2rem 0;padding-left:1.2rem}`;
