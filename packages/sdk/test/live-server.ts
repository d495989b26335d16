/**
 * A real Slotwise server on a free port, on a fresh database (the server's test harness).
 * The server is loaded by a computed URL so that the SDK's typecheck never follows server code.
 */
export interface LiveServer {
  /** The GraphQL endpoint. */
  url: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  wsUrl: string;
  adminToken: string;
  tokenFor(roles: string[], email?: string): Promise<string>;
  /** SQL against the test database, for counting rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

interface Harness {
  createTestApp(options?: { config?: Record<string, string> }): Promise<{
    app: { db: { sql: { query<T>(text: string, params?: unknown[]): Promise<T[]> } } };
    adminToken: string;
    tokenFor(roles: string[], email?: string): Promise<string>;
    close(): Promise<void>;
  }>;
}
interface ServerModule {
  startServer(app: unknown, options: { port: number; host: string; routes?: unknown[] }): Promise<{ url: string; stop(): Promise<void> }>;
}

export interface LiveServerOptions {
  config?: Record<string, string>;
  /** Modules under packages/server/src exporting a route factory `(app) => RouteHandler`, e.g. ['widget/widget-route.ts', 'widgetRoutes']. */
  routes?: [path: string, exportName: string][];
}

const serverDir = new URL('../../server/', import.meta.url);

export async function startLiveServer({ config = {}, routes = [] }: LiveServerOptions = {}): Promise<LiveServer> {
  const harness = (await import(new URL('test/kit/app.ts', serverDir).href)) as Harness;
  const { startServer } = (await import(new URL('src/server.ts', serverDir).href)) as ServerModule;
  const t = await harness.createTestApp({ config });
  const handlers = await Promise.all(
    routes.map(async ([path, name]) =>
      ((await import(new URL(`src/${path}`, serverDir).href)) as Record<string, (app: unknown) => unknown>)[name]!(t.app),
    ),
  );
  const server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: handlers });
  return {
    url: `${server.url}/graphql`,
    origin: server.url,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/graphql`,
    adminToken: t.adminToken,
    tokenFor: (roles, email) => t.tokenFor(roles, email),
    query: (sql, params) => t.app.db.sql.query(sql, params),
    async stop() {
      await server.stop();
      await t.close().catch(() => {});
    },
  };
}
