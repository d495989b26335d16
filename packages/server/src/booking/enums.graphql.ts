import { builder } from '../builder.js';
import { BookingKind, BookingStatus } from '../generated/prisma/enums.js';

export const BookingStatusEnum = builder.enumType(BookingStatus, { name: 'BookingStatus' });
export const BookingKindEnum = builder.enumType(BookingKind, {
  name: 'BookingKind',
  description: 'SLOT: a place on a slot (capacity counted). RANGE: a free time range on an exclusive resource.',
});
