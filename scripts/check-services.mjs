// Before the tests: are PostgreSQL, Redis, NATS and RabbitMQ accepting connections? Plain Node, no dependencies.
// A missing service is named with the commands that start it, instead of a wall of failed tests.
import { connect } from 'node:net';

const services = [
  {
    name: 'PostgreSQL',
    url: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    defaultPort: 5432,
    // SSLRequest: any server answers it with one byte ('S' or 'N'), so this is a real protocol handshake.
    probe: Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]),
    accepts: (reply) => reply.length >= 1 && (reply[0] === 0x53 || reply[0] === 0x4e),
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    docker: 'docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16',
  },
  {
    name: 'Redis',
    url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    defaultPort: 6379,
    probe: Buffer.from('PING\r\n'),
    // +PONG, or -NOAUTH when a password is set: either way Redis is there.
    accepts: (reply) => reply.length >= 1 && (reply[0] === 0x2b || reply[0] === 0x2d),
    start: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    docker: 'docker run -d -p 6379:6379 redis:7',
  },
  {
    name: 'NATS (JetStream)',
    url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    defaultPort: 4222,
    // The server speaks first (INFO {...}); the probe is a harmless PING.
    probe: Buffer.from('PING\r\n'),
    accepts: (reply) => reply.toString('latin1').startsWith('INFO'),
    start:
      'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
    docker: 'docker run -d -p 4222:4222 nats:2 -js',
  },
  {
    name: 'RabbitMQ',
    url: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    defaultPort: 5672,
    // The AMQP 0-9-1 protocol header; the broker answers with a method frame (type 1, connection.start).
    probe: Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]),
    accepts: (reply) => reply.length >= 1 && reply[0] === 1,
    start: 'rabbitmq-server -detached',
    docker: 'docker run -d -p 5672:5672 rabbitmq:3',
  },
];

function check({ url, defaultPort, probe, accepts }) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || defaultPort });
    const finish = (error) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(3000, () => finish('no answer within 3 s'));
    socket.once('error', (err) => finish(err.code ?? err.message));
    socket.once('connect', () => socket.write(probe));
    socket.once('data', (reply) => finish(accepts(reply) ? null : 'unexpected reply'));
  });
}

const results = await Promise.all(services.map(async (s) => ({ ...s, error: await check(s) })));
const missing = results.filter((r) => r.error);
if (missing.length === 0) process.exit(0);

for (const s of missing) {
  console.error(`${s.name} is not accepting connections at ${s.url} (${s.error}).`);
  console.error(`  Start it on Debian/Ubuntu:  ${s.start}`);
  console.error(`  or with Docker:             ${s.docker}`);
}
console.error(
  'The tests need PostgreSQL, Redis, NATS and RabbitMQ (set TEST_DATABASE_URL / TEST_REDIS_URL / TEST_NATS_URL / TEST_AMQP_URL to use others).',
);
process.exit(1);
