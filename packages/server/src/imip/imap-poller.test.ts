import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { GUEST_EMAIL, proposalFixtures } from '../../test/kit/proposals.js';
import { sample } from '../../test/kit/imip-samples/samples.js';
import { portOpen, waitFor } from '../../test/kit/wait.js';
import { ImapPoller, imapOptions } from './imap-poller.js';

const DOVECOT = '/usr/sbin/dovecot';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user ${name}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Our own Dovecot: its own config, directory and port, plaintext login on 127.0.0.1; stopped by its pid. */
async function startDovecot(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'slotwise-dovecot-'));
  mkdirSync(join(dir, 'base'));
  const port = await freePort();
  const me = userInfo();
  // Dovecot refuses root for its login processes and mail users: as root, use the package's own unprivileged users.
  const [internalUser, loginUser] = me.uid === 0 ? ['dovecot', 'dovenull'] : [me.username, me.username];
  const { uid, gid } = me.uid === 0 ? systemUser('dovecot') : me;
  mkdirSync(join(dir, 'mail'));
  chownSync(join(dir, 'mail'), uid, gid);
  chmodSync(dir, 0o755);
  writeFileSync(
    join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/base
state_dir = ${dir}/base
instance_name = slotwise-test-${port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = ${dir}/dovecot.log
default_internal_user = ${internalUser}
default_login_user = ${loginUser}
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 0
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/mail/%u
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  await waitFor(() => portOpen(port), `something listening on ${port}`, 15_000, 100);
  return {
    url: `imap://organizer:secret@127.0.0.1:${port}`,
    /** Stops our Dovecot by its pid and waits (bounded) for it to exit before removing its directory. */
    async stop() {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'Dovecot to exit', 5_000).catch(() => {});
      if (!process.env.KEEP_DOVECOT) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

describe.skipIf(!existsSync(DOVECOT))('IMAP poller against a real Dovecot', () => {
  let t: TestApp;
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestApp({ config: { IMAP_URL: dovecot.url } });
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await dovecot?.stop();
  });

  it('ingests every message in the folder through the same ingestor, then moves it to the processed folder', async () => {
    const x = proposalFixtures(t);
    const home = await x.host();
    const booking = await x.book(await x.slot(home.locationId, home.resourceId, 40));
    const [row] = await t.app.db.sql.query<{ ics_uid: string; start_at: Date; end_at: Date }>(
      `SELECT ics_uid, start_at, end_at FROM bookings WHERE id = $1`,
      [booking.rawId],
    );
    const vars = { uid: row!.ics_uid, sequence: 0, attendee: GUEST_EMAIL, start: row!.start_at, end: row!.end_at };

    const client = new ImapFlow({ ...imapOptions(dovecot.url), logger: false });
    await client.connect();
    await client.append('INBOX', sample('outlook-reply', vars));
    await client.append('INBOX', sample('out-of-office', vars));
    await client.append('INBOX', Buffer.from('not a mail at all'));

    const poller = new ImapPoller(t.app.config, t.app.services.imip, t.app.log);
    const first = await poller.pollOnce();
    expect(first.outcomes.sort()).toEqual(['accepted', 'not-calendar', 'unparseable']);
    expect((await poller.pollOnce()).handled).toBe(0);

    const count = async (folder: string) => {
      const status = await client.status(folder, { messages: true });
      return status ? status.messages : -1;
    };
    expect([await count('INBOX'), await count('Processed')]).toEqual([0, 3]);
    await client.logout();
    const [reply] = await t.app.db.sql.query(`SELECT source, outcome FROM imip_messages WHERE booking_id = $1`, [booking.rawId]);
    expect(reply).toEqual({ source: 'imap', outcome: 'accepted' });
  }, 30_000);
});
