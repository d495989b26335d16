import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/ids.js';
import { WINDOW_CAP_DAYS } from '../shared/validation.js';
import type { GenerationReport } from './generation.service.js';

export const SlotGenerationReportRef = builder.objectRef<GenerationReport>('SlotGenerationReport').implement({
  description: 'What a generation (or a rule change) did to the slots of its window; past slots are never touched.',
  fields: (t) => ({
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated', { description: 'Free slots whose duration or capacity followed the rules, or cancelled ones reopened.' }),
    unchanged: t.exposeInt('unchanged'),
    removed: t.exposeInt('removed', { description: 'Free slots no rule produces any more: deleted, or CANCELLED when bookings refer to them.' }),
    kept: t.idList({
      description: 'Slots that would have changed or gone but have bookings or holds; left exactly as they are.',
      resolve: (r) => r.kept.map((id) => encodeGlobalID('Slot', id)),
    }),
  }),
});

const GenerateSlotsInput = builder.inputType('GenerateSlotsInput', {
  fields: (t) => ({
    resourceId: t.id({ description: "One resource's slots" }),
    locationId: t.id({ description: 'Location-wide slots plus those of every active resource with rules there' }),
    from: t.field({ type: 'Date', required: true, description: "First local date (location's zone), inclusive; the past is skipped" }),
    to: t.field({ type: 'Date', required: true, description: `Last local date, inclusive; at most ${WINDOW_CAP_DAYS.generation} days after from` }),
  }),
});

builder.mutationField('generateSlots', (t) =>
  t.field({
    type: SlotGenerationReportRef,
    description: 'Materializes slots from the availability rules. Idempotent: a second run creates nothing.',
    authScopes: { roles: ['manager', 'scheduler'] },
    errors: {},
    args: { input: t.arg({ type: GenerateSlotsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.generation.generate({
        from: input.from,
        to: input.to,
        resourceId: input.resourceId == null ? null : parseGlobalId(String(input.resourceId), 'Resource', ['input', 'resourceId']),
        locationId: input.locationId == null ? null : parseGlobalId(String(input.locationId), 'Location', ['input', 'locationId']),
      }),
  }),
);
