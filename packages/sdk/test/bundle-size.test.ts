import { describe, expect, it } from 'vitest';

describe('bundle sizes (scripts/size.mjs)', () => {
  it('a browser app with createClient and one query stays small, the hooks add little, and the widget is under 50 kB gzip', async () => {
    // @ts-expect-error: a plain .mjs script without declarations
    const { sizes } = (await import('../scripts/size.mjs')) as {
      sizes: Record<'app' | 'hooks' | 'hooksOnly' | 'format' | 'widget', { minified: number; gzip: number }>;
    };
    expect(sizes.app.gzip).toBeLessThan(8 * 1024);
    expect(sizes.hooksOnly.gzip).toBeLessThan(3 * 1024);
    expect(sizes.format.gzip).toBeLessThan(2 * 1024);
    expect(sizes.widget.gzip).toBeLessThan(50 * 1024);
  });
});
