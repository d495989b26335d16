import type { SlotEvents } from '../events/slot-events.js';
import { z } from 'zod';
import type { Location, Prisma, PrismaClient } from '../generated/prisma/client.js';
import { emptyReport, type GenerationReport, type GenerationService } from '../scheduling/generation.service.js';
import { policyInputShape } from '../policies/policy.js';
import { insertLocation, updateLocationRow } from './locations.store.js';
import { NotFoundError, parseInput } from '../shared/errors.js';
import { keepWhenAbsent, stripUndefined } from '../shared/update-input.js';
import { timeZoneSchema as timeZone } from '../shared/validation.js';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const address = z.string().trim().max(500).nullish();

export const createLocationInput = z.object({ name, timeZone, address, ...policyInputShape });
export const updateLocationInput = z.object({ name: keepWhenAbsent(name), timeZone: keepWhenAbsent(timeZone), address, ...policyInputShape });

export type CreateLocationInput = z.input<typeof createLocationInput>;
export type UpdateLocationInput = z.input<typeof updateLocationInput>;

export class LocationsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly generation: GenerationService,
    private readonly slotEvents?: SlotEvents,
  ) {}

  create(input: CreateLocationInput) {
    const data = parseInput(createLocationInput, input);
    return insertLocation(this.prisma, data);
  }

  /** A new zone re-plans the location's future free slots in it (see GenerationService.afterZoneChange). */
  async update(id: string, input: UpdateLocationInput): Promise<{ location: Location; slots: GenerationReport }> {
    const data = stripUndefined(parseInput(updateLocationInput, input));
    const found = await this.prisma.location.findUnique({ where: { id }, select: { timeZone: true } });
    if (!found) throw new NotFoundError('Location', id);
    const write = (db: Prisma.TransactionClient) => updateLocationRow(db, id, data);
    const updated =
      data.timeZone && data.timeZone !== found.timeZone
        ? await this.generation.afterZoneChange(id, write)
        : { location: await write(this.prisma), slots: emptyReport() };
    // Its zone or state shows in availability answers.
    await this.slotEvents?.scopeChanged('location', id);
    return updated;
  }
}
