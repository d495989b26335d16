import { Agent, request } from 'node:http';

/** A keep-alive JSON POST client: one socket per closed-loop client, little overhead in the driver. */
export class JsonClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(baseUrl: string, sockets: number) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  post<T = any>(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Record<string, string | string[] | undefined> }> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: res.headers });
            } catch (err) {
              reject(err);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** GraphQL over POST /graphql; resolves with data, rejects on transport or GraphQL errors. */
  async graphql<T = any>(query: string, variables: Record<string, unknown>, headers?: Record<string, string>): Promise<T> {
    const { status, body } = await this.post<{ data?: T; errors?: { message: string }[] }>('/graphql', { query, variables }, headers);
    if (body.errors?.length) throw new Error(`HTTP ${status}: ${body.errors[0]!.message}`);
    return body.data as T;
  }

  close() {
    this.agent.destroy();
  }
}
