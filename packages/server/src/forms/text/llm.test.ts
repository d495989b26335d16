import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../../test/kit/app.js';
import { REGISTER, publishForm } from '../../../test/kit/forms.js';

const KEY = 'sk-test-very-secret-key-0123456789';
const SEED = '1-1 soccer coaching, 5-9pm, Mon/Wed, 1h slots, next 2 weeks, Eastern';
const FROM_TEXT = `mutation ($input: CreateFormFromTextInput!) {
  createFormFromText(input: $input) {
    __typename
    ... on FormFromText { extractor fallbackReason title timeZone slotCount explanation form { slug } }
    ... on FormTextNotUnderstoodError { unparsed }
  }
}`;

/** What the fake model answers next: a chat-completions body, raw text, or nothing (hang until the test ends). */
let reply: { content: string } | { raw: string } | 'hang' = 'hang';
const requests: { authorization?: string; body: any }[] = [];
const hanging: ServerResponse[] = [];
let llm: Server;
let t: TestApp;
const logLines: string[] = [];

function answer(req: IncomingMessage, res: ServerResponse) {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    requests.push({ authorization: req.headers.authorization, body: JSON.parse(body) });
    if (reply === 'hang') return void hanging.push(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('raw' in reply ? reply.raw : JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: reply.content } }] }));
  });
}

const LLM_FORM = {
  title: 'Soccer coaching (LLM)',
  description: null,
  timeZone: 'America/Chicago',
  maxSlotsPerRegistration: 2,
  unsupported: [],
  schedule: {
    daysOfWeek: [1, 3],
    startTime: '17:00',
    endTime: '21:00',
    slotMinutes: 60,
    capacityPerSlot: 1,
    startDate: '2054-12-07',
    endDate: null,
    weeks: 2,
  },
};

beforeAll(async () => {
  llm = createServer(answer);
  await new Promise<void>((resolve) => llm.listen(0, '127.0.0.1', resolve));
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
  t = await createTestApp({
    logger,
    config: {
      LLM_BASE_URL: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`,
      LLM_MODEL: 'test-model',
      LLM_API_KEY: KEY,
      LLM_TIMEOUT_MS: '1500',
    },
  });
  t.app.services.forms.now = () => new Date('2054-12-02T15:00:00Z');
  t.app.services.registrations.now = () => new Date('2054-12-02T15:00:00Z');
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((resolve) => llm.close(resolve));
  await t.close();
});

const fromText = async (input: Record<string, unknown>) =>
  expectNoErrors(await t.execute(FROM_TEXT, { input }, { token: t.adminToken })).createFormFromText;

describe('createFormFromText with an OpenAI-compatible LLM', () => {
  it('uses a valid answer, asking for a strict JSON schema with the key as Bearer token', async () => {
    reply = { content: JSON.stringify(LLM_FORM) };
    const result = await fromText({ text: SEED });
    expect(result).toMatchObject({
      extractor: 'LLM',
      fallbackReason: null,
      title: 'Soccer coaching (LLM)',
      timeZone: 'America/Chicago',
      slotCount: 16,
      form: { slug: 'soccer-coaching-llm' },
    });
    const request = requests.at(-1)!;
    expect(request.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toMatchObject({
      model: 'test-model',
      response_format: { type: 'json_schema', json_schema: { name: 'signup_form', strict: true } },
    });
    expect(request.body.messages[1].content).toContain(SEED);
  });

  it.each([
    ['invalid JSON', { content: '{"title": "Soccer", oops' }, 'the answer was not valid JSON'],
    ['a body that is not chat completions', { raw: '<html>bad gateway</html>' }, 'the answer was not valid JSON'],
    [
      'JSON outside the contract',
      { content: JSON.stringify({ ...LLM_FORM, schedule: { ...LLM_FORM.schedule, startTime: '5pm' } }) },
      'the answer did not match the contract (schedule.startTime)',
    ],
    ['no answer in time', 'hang' as const, 'no answer within 1500 ms'],
  ])('falls back to the offline extractor on %s, and says so', async (_name, next, reason) => {
    reply = next;
    const started = Date.now();
    const result = await fromText({ text: SEED, dryRun: true });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ extractor: 'OFFLINE', title: '1-1 soccer coaching', timeZone: 'America/New_York', slotCount: 16 });
    expect(result.fallbackReason).toBe(`LLM answer not used: ${reason}; read offline instead`);
    expect(result.explanation).toContain(result.fallbackReason);
  });

  it('refuses when the model names a part it cannot express', async () => {
    reply = { content: JSON.stringify({ ...LLM_FORM, unsupported: ['except holidays'] }) };
    expect(await fromText({ text: `${SEED}, except holidays` })).toMatchObject({
      __typename: 'FormTextNotUnderstoodError',
      unparsed: ['except holidays'],
    });
  });

  it('formInsights: free questions go to the LLM with the numbers only, no names', async () => {
    reply = { content: JSON.stringify(LLM_FORM) };
    const form = (await fromText({ text: SEED })).form as { slug: string };
    const id = (await t.app.db.prisma.form.findUniqueOrThrow({ where: { slug: form.slug } })).id;
    const globalId = Buffer.from(`Form:${id}`).toString('base64');
    await publishForm(t, globalId);
    const slot = await t.app.db.prisma.slot.findFirstOrThrow({ where: { formId: id }, orderBy: { startAt: 'asc' } });
    expectNoErrors(
      await t.execute(REGISTER, {
        input: {
          formSlug: form.slug,
          name: 'Zelda Private',
          email: 'zelda@example.com',
          slotIds: [Buffer.from(`Slot:${slot.id}`).toString('base64')],
        },
      }),
    );

    reply = { content: JSON.stringify({ answer: 'One of 16 places is booked.' }) };
    const insight = expectNoErrors(
      await t.execute(
        `query ($id: ID!, $q: String) { formInsights(formId: $id, question: $q) { ... on FormInsight { intent answer source seatsBooked } } }`,
        { id: globalId, q: 'summarise the bookings in a haiku' },
        { token: t.adminToken },
      ),
    ).formInsights;
    expect(insight).toEqual({ intent: 'OTHER', answer: 'One of 16 places is booked.', source: 'LLM', seatsBooked: 1 });
    const sent = requests.at(-1)!.body.messages[1].content as string;
    expect(sent).toContain('"seatsBooked":1');
    expect(sent).not.toContain('Zelda');
    expect(sent).not.toContain('zelda@example.com');

    // The explicit flag lets names (never emails) through.
    t.app.config.LLM_SHARE_PERSONAL_DATA = true;
    try {
      await t.execute(
        `query ($id: ID!) { formInsights(formId: $id, question: "anything notable?") { __typename } }`,
        { id: globalId },
        { token: t.adminToken },
      );
      const shared = requests.at(-1)!.body.messages[1].content as string;
      expect(shared).toContain('"name":"Zelda Private"');
      expect(shared).not.toContain('zelda@example.com');
    } finally {
      t.app.config.LLM_SHARE_PERSONAL_DATA = false;
    }
  });

  it('never logs the key (while the LLM calls were logged)', () => {
    const logs = logLines.join('');
    expect(logs).toContain('LLM answered');
    expect(logs).toContain('LLM no answer within 1500 ms');
    expect(logs).not.toContain(KEY);
    expect(logs).not.toContain(KEY.slice(3, 20));
  });
});
