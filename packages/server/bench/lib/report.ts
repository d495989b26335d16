import type { LoadResult } from './load.js';

export interface Row {
  scenario: string;
  target: string;
  result: LoadResult;
  /** Throughput divided by the stack floor's in the same scenario and concurrency. */
  ratio?: number;
  /** The goal printed beside the figure, e.g. "p95<100ms, >=0.8x floor". */
  goal?: string;
  met?: boolean;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

export function printTable(title: string, rows: Row[]) {
  const header = [
    'scenario',
    'target',
    'clients',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'ok',
    'conflict',
    'err',
    'cpu ms/req',
    'db ms/req',
    'x floor',
    'target',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.target,
    String(r.result.clients),
    r.result.rps.toFixed(0),
    ms(r.result.p50),
    ms(r.result.p95),
    ms(r.result.p99),
    String(r.result.ok),
    String(r.result.conflicts),
    String(r.result.errors),
    r.result.cpuMsPerRequest === undefined ? '' : r.result.cpuMsPerRequest.toFixed(2),
    r.result.dbCpuMsPerRequest === undefined ? '' : r.result.dbCpuMsPerRequest.toFixed(2),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.goal ? `${r.goal} ${r.met ? 'MET' : 'MISSED'}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < 2 || i === 13 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n== ${title}`);
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
  for (const r of rows) if (r.result.firstError) console.log(`   ${r.scenario} / ${r.target}: first error: ${r.result.firstError.slice(0, 300)}`);
}

export function skipped(what: string) {
  console.log(`\n== ${what}`);
}
