import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isAbstractType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { daysBetween } from '../shared/time.js';
import { WINDOW_CAP_DAYS, isLocalDate } from '../shared/validation.js';
import { DEFAULT_WINDOW_DAYS } from '../scheduling/availability-window.js';

/**
 * The static cost of an operation, from the document, the schema and the variables, before anything
 * runs. One unit is roughly one object the server assembles; a windowed read (a scope's slots)
 * weighs what it makes the database read: days x resources. README "Cost of an operation" lists
 * typical operations.
 */

/** A location's slots count as this many resources' (its real number is not known without the database). */
export const LOCATION_WEIGHT = 5;
/** The length assumed of a list whose size no argument bounds. */
export const ASSUMED_LIST_SIZE = 10;
/** Relay connections: page size without `first`/`last`, and the most one page holds. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const DAY_MS = 86_400_000;
/** The longest availability window: a window that will be refused counts as this long. */
const MAX_WINDOW_DAYS = WINDOW_CAP_DAYS.availability;

type Args = Record<string, unknown>;

/** Availability-like fields: each weighs days x scope instead of 1. Root ones also count against MAX_AVAILABILITY_FIELDS. */
const WINDOWED: Record<string, (args: Args, now: Date) => number> = {
  'Query.availability': (a) => scopeWeight(a) * instantDays(a.from, a.to),
  'Query.availableDates': (a) => scopeWeight(a) * dateDays(a.from, a.to),
  'Query.availabilityByDay': (a) => scopeWeight(a) * instantDays(a.from, a.to),
  'Query.exposedSlots': (a) => scopeWeight(a),
  'Query.searchAvailability': (a) => scopeWeight(a) * instantDays(a.from, a.to),
  'Subscription.slotAvailability': (a, now) => {
    const from = a.from instanceof Date ? a.from : now;
    return scopeWeight(a) * instantDays(from, a.to ?? new Date(from.getTime() + DEFAULT_WINDOW_DAYS * DAY_MS));
  },
  'Location.slots': (a) => LOCATION_WEIGHT * instantDays(a.from, a.to),
  'Resource.slots': (a) => instantDays(a.from, a.to),
};

/** Root fields that read availability: MAX_AVAILABILITY_FIELDS caps how many one request may hold. */
export const AVAILABILITY_ROOT_FIELDS = Object.keys(WINDOWED).filter((f) => /^(Query|Subscription)\./.test(f));

export interface OperationCost {
  cost: number;
  /** Availability-like root fields (aliases each count). */
  availabilityFields: number;
  /** The variables did not coerce: the operation will fail before any resolver runs. */
  invalidVariables: boolean;
  /**
   * Some field's weight comes from its arguments (a window, a page size, ids asked for), which
   * variables may set; otherwise every request with this operation weighs the same.
   */
  weighsArguments: boolean;
}

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | null | undefined,
  now = new Date(),
): OperationCost {
  const coerced = coerceVariables(schema, operation, rawVariables);
  const variables = coerced.coerced ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const root = schema.getRootType(operation.operation);
  if (!root) return { cost: 0, availabilityFields: 0, invalidVariables: Boolean(coerced.errors), weighsArguments: false };
  let weighsArguments = false;

  // Per selection set, parent type and page size: fragments spread many times are costed once.
  const memo = new Map<SelectionSetNode, Map<string, number>>();

  function selectionCost(set: SelectionSetNode, parent: GraphQLCompositeType, pageSize: number | null): number {
    const memoKey = `${parent.name}|${pageSize}`;
    const known = memo.get(set)?.get(memoKey);
    if (known !== undefined) return known;
    // On a union or interface only one object type's fragments apply: the dearest one counts.
    let common = 0;
    const perType = new Map<string, number>();
    const visit = (inner: SelectionSetNode, type: GraphQLCompositeType, bucket: string | null) => {
      for (const selection of inner.selections) {
        if (selection.kind === Kind.FIELD) {
          const cost = fieldCost(selection, type, pageSize);
          if (bucket) perType.set(bucket, (perType.get(bucket) ?? 0) + cost);
          else common += cost;
          continue;
        }
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (!fragment) continue;
        const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
        if (!condition || !isCompositeType(condition)) continue;
        const next = bucket ?? (isAbstractType(parent) && isObjectType(condition) ? condition.name : null);
        visit(fragment.selectionSet, condition, next);
      }
    };
    visit(set, parent, null);
    const total = common + Math.max(0, ...perType.values());
    if (!memo.has(set)) memo.set(set, new Map());
    memo.get(set)!.set(memoKey, total);
    return total;
  }

  function fieldCost(node: FieldNode, parent: GraphQLCompositeType, pageSize: number | null): number {
    const name = node.name.value;
    if (name.startsWith('__')) return name === '__typename' ? 0 : 1;
    if (isAbstractType(parent) && !('getFields' in parent)) return 0;
    const field = (parent as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields()[name];
    if (!field) return 0;
    const named = getNamedType(field.type);
    if (!isCompositeType(named) || !node.selectionSet) return 0;
    const windowed = WINDOWED[`${parent.name}.${name}`];
    const paginated = field.args.some((a) => a.name === 'first' || a.name === 'last');
    const list = isListType(getNullableType(field.type));
    // Only these weigh what their arguments say; other fields' arguments are not read.
    const weighed = Boolean(windowed) || paginated || (list && name === 'nodes');
    if (weighed) weighsArguments = true;
    const args = weighed ? argumentsOf(field, node, variables) : {};
    const own = windowed ? windowed(args, now) : 1;
    // A paginated field (its result may be a union around the connection) sizes its edges and nodes.
    const page = paginated ? pageOf(args) : null;
    const items = list ? listSize(name, args, pageSize) : 1;
    const inner = selectionCost(node.selectionSet, named, page);
    // Every object of a list counts, even one asked only for leaves (`nodes(ids: [10,000 ids]) { id }`).
    return own + (items === 1 ? inner : items * Math.max(1, inner));
  }

  let cost = 0;
  const responseKeys = new Set<string>();
  const visitRoot = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += fieldCost(selection, root, null);
        if (AVAILABILITY_ROOT_FIELDS.includes(`${root.name}.${selection.name.value}`))
          responseKeys.add(selection.alias?.value ?? selection.name.value);
        continue;
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      if (fragment) visitRoot(fragment.selectionSet);
    }
  };
  visitRoot(operation.selectionSet);
  return { cost, availabilityFields: responseKeys.size, invalidVariables: Boolean(coerced.errors), weighsArguments };
}

/** The operation's variables as graphql will coerce them before anything runs; `errors` when they do not. */
export function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, rawVariables: Record<string, unknown> | null | undefined) {
  return getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {}, { maxErrors: 1 });
}

function argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): Args {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    // Arguments that do not coerce fail the operation before any resolver runs.
    return {};
  }
}

/** Items a list field is assumed to hold: the connection page, the ids asked for, or ASSUMED_LIST_SIZE. */
function listSize(name: string, args: Args, pageSize: number | null): number {
  if (pageSize !== null && (name === 'edges' || name === 'nodes')) return pageSize;
  for (const value of Object.values(args)) if (Array.isArray(value) && name === 'nodes') return value.length;
  return ASSUMED_LIST_SIZE;
}

function pageOf(args: Args): number {
  const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE_SIZE;
  return Math.min(Math.max(asked, 0), MAX_PAGE_SIZE);
}

function scopeWeight(args: Args): number {
  return args.locationId != null ? LOCATION_WEIGHT : 1;
}

/** Whole days a [from, to) window touches, 1 to MAX_WINDOW_DAYS; a window that will be refused counts as the longest. */
function instantDays(from: unknown, to: unknown): number {
  if (!(from instanceof Date) || !(to instanceof Date)) return MAX_WINDOW_DAYS;
  return clampDays(Math.ceil((to.getTime() - from.getTime()) / DAY_MS));
}

/** Local dates from and to, both inclusive. */
function dateDays(from: unknown, to: unknown): number {
  if (!isLocalDate(from) || !isLocalDate(to)) return MAX_WINDOW_DAYS;
  return clampDays(daysBetween(from, to) + 1);
}

function clampDays(days: number): number {
  if (!Number.isFinite(days)) return MAX_WINDOW_DAYS;
  return Math.min(Math.max(days, 1), MAX_WINDOW_DAYS);
}
