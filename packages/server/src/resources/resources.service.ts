import type { SlotEvents } from '../events/slot-events.js';
import { z } from 'zod';
import type { PrismaClient, Resource } from '../generated/prisma/client.js';
import { policyInputShape } from '../policies/policy.js';
import { NotFoundError, parseInput } from '../shared/errors.js';
import { keepWhenAbsent, stripUndefined } from '../shared/update-input.js';
import { skillsSchema } from '../shared/viewer.js';
import { insertResource, updateResourceRow, withdrawFreeSlots } from './resources.store.js';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const kind = z.enum(['PERSON', 'FACILITY', 'ROOM']);
const email = z
  .email('must be an email address')
  .transform((e) => e.toLowerCase())
  .nullish();
const capacity = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000);

export const createResourceInput = z.object({
  locationId: z.string(),
  kind,
  name,
  email,
  capacity: capacity.default(1),
  exclusive: z.boolean().default(false),
  ...policyInputShape,
  skills: skillsSchema.default([]),
});
export const updateResourceInput = z.object({
  name: keepWhenAbsent(name),
  email,
  capacity: keepWhenAbsent(capacity),
  exclusive: keepWhenAbsent(z.boolean()),
  active: keepWhenAbsent(z.boolean()),
  ...policyInputShape,
  skills: keepWhenAbsent(skillsSchema),
});

export type CreateResourceInput = z.input<typeof createResourceInput>;
export type UpdateResourceInput = z.input<typeof updateResourceInput>;

export class ResourcesService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly slotEvents?: SlotEvents,
  ) {}

  async create(input: CreateResourceInput) {
    const data = parseInput(createResourceInput, input);
    const location = await this.prisma.location.findUnique({ where: { id: data.locationId }, select: { id: true } });
    if (!location) throw new NotFoundError('Location', data.locationId);
    return insertResource(this.prisma, data);
  }

  async update(id: string, input: UpdateResourceInput) {
    const data = parseInput(updateResourceInput, input);
    const found = await this.prisma.resource.findUnique({ where: { id }, select: { active: true } });
    if (!found) throw new NotFoundError('Resource', id);
    const { updated, changes } = await this.prisma.$transaction(async (tx) => {
      const updated = await updateResourceRow(tx, id, stripUndefined(data));
      // Archived: nothing offers or books its free future slots any more; slots with bookings stay for
      // staff to move or cancel. Made active again, the slot horizon job plans its slots again.
      const changes = found.active && data.active === false ? await withdrawFreeSlots(tx, id, new Date()) : [];
      return { updated, changes };
    });
    await this.slotEvents?.publish(changes);
    // Its zone or state shows in availability answers.
    await this.slotEvents?.scopeChanged('resource', id);
    return updated;
  }

  /** The widget demo page's default: the oldest active resource. */
  firstActive(): Promise<Resource | null> {
    return this.prisma.resource.findFirst({ where: { active: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }
}
