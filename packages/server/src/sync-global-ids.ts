import { RootFieldBuilder } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';

type GlobalIdSource = { type: unknown; id: unknown } | string | null | undefined;
type Resolver<T> = (parent: unknown, args: unknown, context: unknown, info: unknown) => T | Promise<T>;

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
      !item || typeof item !== 'object' ? item : encodeGlobalID(this.builder.configStore.getTypeConfig(item.type).name, String(item.id));
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
