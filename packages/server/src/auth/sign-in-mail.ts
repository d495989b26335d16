import { esc } from '../shared/html.js';
import type { MailContent } from '../mail/mail-content.js';

/** The sign-in mail: the code to type and the link to open; either works once. */
export function signInMail(code: string, link: string, ttlMinutes: number): MailContent {
  const lines = [
    `Your sign-in code is ${code}.`,
    `Type it where you asked to sign in, or open the link below. Either works once, for ${ttlMinutes} minutes.`,
    'If you did not ask to sign in, ignore this mail: nothing happens without the code or the link.',
  ];
  return {
    subject: `Your sign-in code: ${code}`,
    text: `${lines.join('\n\n')}\n\nSign in: ${link}\n`,
    html: `<!doctype html><html><body>${lines.map((l) => `<p>${esc(l)}</p>`).join('\n')}\n<p><a href="${esc(link)}">Sign in</a></p></body></html>`,
  };
}
