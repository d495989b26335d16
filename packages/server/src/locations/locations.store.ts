import type { Location, Prisma } from '../generated/prisma/client.js';

/** The locations domain's Prisma writes. */

type Tx = Prisma.TransactionClient;

export function insertLocation(tx: Tx, data: Prisma.LocationUncheckedCreateInput): Promise<Location> {
  return tx.location.create({ data });
}

export function updateLocationRow(tx: Tx, id: string, data: Prisma.LocationUncheckedUpdateInput): Promise<Location> {
  return tx.location.update({ where: { id }, data });
}
