import type { Prisma, Resource } from '../generated/prisma/client.js';

/** The resources domain's Prisma writes. */

type Tx = Prisma.TransactionClient;

export function insertResource(tx: Tx, data: Prisma.ResourceUncheckedCreateInput): Promise<Resource> {
  return tx.resource.create({ data });
}

export function updateResourceRow(tx: Tx, id: string, data: Prisma.ResourceUncheckedUpdateInput): Promise<Resource> {
  return tx.resource.update({ where: { id }, data });
}
