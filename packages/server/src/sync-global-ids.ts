import { RootFieldBuilder } from '@pothos/core';

type GlobalIdSource = { type: unknown; id: unknown } | string | null | undefined;
type Resolver<T> = (parent: unknown, args: unknown, context: unknown, info: unknown) => T | Promise<T>;

// Every id in an answer is encoded (a week of slots is hundreds): through one buffer rather than a
// Buffer allocated per id, the same bytes as the plugin's encodeGlobalID (UTF-8, then base64).
const scratch = Buffer.allocUnsafe(1024);

export function encodeGlobalId(typename: string, id: string): string {
  const text = `${typename}:${id}`;
  // UTF-8 needs at most 3 bytes per UTF-16 unit: longer texts get a buffer of their own.
  if (text.length * 3 > scratch.length) return Buffer.from(text).toString('base64');
  return scratch.toString('base64', 0, scratch.write(text, 0, 'utf8'));
}

/**
 * The relay plugin's `globalID` field (every node's `id`) is always async, so each node in a list
 * (a week of slots is hundreds) completes through promises: about a third of the time of an
 * availability answer. Same field and encoding, synchronous when the id is at hand.
 * Call after the relay plugin is loaded (it sets its own `globalID` on import) and before the schema is built.
 */
export function patchSynchronousGlobalIds(): void {
  (RootFieldBuilder.prototype as unknown as { globalID: unknown }).globalID = function globalID(
    this: { builder: { configStore: { getTypeConfig(ref: unknown): { name: string } } }; field(options: object): unknown },
    { resolve, ...options }: { resolve: Resolver<GlobalIdSource> },
  ) {
    const encode = (item: GlobalIdSource) =>
      !item || typeof item !== 'object' ? item : encodeGlobalId(this.builder.configStore.getTypeConfig(item.type).name, String(item.id));
    return this.field({
      ...options,
      type: 'ID',
      resolve: (parent: unknown, args: unknown, context: unknown, info: unknown) => {
        const result = resolve(parent, args, context, info);
        return result instanceof Promise ? result.then(encode) : encode(result);
      },
    });
  };
}
