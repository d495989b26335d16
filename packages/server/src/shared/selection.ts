import { Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

type FragmentOf = (name: string) => FragmentDefinitionNode | undefined;

/** A document's fragments, by name. */
export const fragmentsOf =
  (document: DocumentNode): FragmentOf =>
  (name) =>
    document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);

/**
 * The fields of a selection set, through inline fragments and fragment spreads, whatever their type
 * conditions. Each fragment is spread once: a document not yet validated may spread one in itself.
 */
export function fieldsOf(selectionSet: SelectionSetNode, fragmentOf: FragmentOf, seen = new Set<string>()): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsOf(selection.selectionSet, fragmentOf, seen);
    const name = selection.name.value;
    if (seen.has(name)) return [];
    seen.add(name);
    const fragment = fragmentOf(name);
    return fragment ? fieldsOf(fragment.selectionSet, fragmentOf, seen) : [];
  });
}

/**
 * The names of the fields selected at `path` (field names, not aliases) below a resolver's own
 * field. A field under @skip or @include counts as selected: a read trimmed by this reads too
 * much, never too little.
 */
export function selectedFieldNames(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: string[]): Set<string> {
  const fragmentOf: FragmentOf = (name) => info.fragments[name];
  let sets = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  for (const name of path) {
    sets = sets.flatMap((set) =>
      fieldsOf(set, fragmentOf).flatMap((field) => (field.name.value === name && field.selectionSet ? [field.selectionSet] : [])),
    );
  }
  return new Set(sets.flatMap((set) => fieldsOf(set, fragmentOf).map((field) => field.name.value)));
}
