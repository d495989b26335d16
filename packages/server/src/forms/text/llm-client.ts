import type { Logger } from 'pino';
import type { Config } from '../../config.js';

/** Why an LLM answer was not used; the caller falls back to the offline path and reports this. */
export class LlmUnavailableError extends Error {}

export interface JsonSchemaFormat {
  name: string;
  schema: Record<string, unknown>;
}

/**
 * A minimal OpenAI-compatible chat-completions client that asks for a strict JSON-schema answer.
 * Bounded by LLM_TIMEOUT_MS; the API key goes only into the Authorization header, never into logs
 * or error messages.
 */
export class LlmClient {
  constructor(private readonly config: Pick<Config, 'LLM_BASE_URL' | 'LLM_MODEL' | 'LLM_API_KEY' | 'LLM_TIMEOUT_MS'>) {}

  get configured(): boolean {
    return Boolean(this.config.LLM_BASE_URL);
  }

  /** The model's JSON answer (parsed, not yet validated); LlmUnavailableError on any failure. */
  async json(system: string, user: string, format: JsonSchemaFormat, log: Logger): Promise<unknown> {
    const url = `${this.config.LLM_BASE_URL!.replace(/\/+$/, '')}/chat/completions`;
    // Logged without any user:password part a base URL might carry.
    const logUrl = Object.assign(new URL(url), { username: '', password: '' }).href;
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.config.LLM_API_KEY ? { authorization: `Bearer ${this.config.LLM_API_KEY}` } : {}),
        },
        body: JSON.stringify({
          model: this.config.LLM_MODEL,
          temperature: 0,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
          response_format: { type: 'json_schema', json_schema: { name: format.name, strict: true, schema: format.schema } },
        }),
        signal: AbortSignal.timeout(this.config.LLM_TIMEOUT_MS),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${this.config.LLM_TIMEOUT_MS} ms` : `request failed (${(err as Error).name})`;
      log.warn({ llm: { url: logUrl, model: this.config.LLM_MODEL, ms: Date.now() - started } }, `LLM ${reason}`);
      throw new LlmUnavailableError(reason);
    }
    const body = await response.text().catch(() => '');
    log.info({ llm: { url: logUrl, model: this.config.LLM_MODEL, status: response.status, ms: Date.now() - started } }, 'LLM answered');
    if (!response.ok) throw new LlmUnavailableError(`HTTP ${response.status}`);
    try {
      const content = (JSON.parse(body) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('no message content');
      return JSON.parse(content);
    } catch {
      throw new LlmUnavailableError('the answer was not valid JSON');
    }
  }
}
