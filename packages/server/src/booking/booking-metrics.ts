/** The booking funnel (seed 003): each step, and the two ways a booking attempt fails. */
export const BOOKING_ACTIONS = ['held', 'confirmed', 'cancelled', 'expired', 'conflict', 'full'] as const;
export type BookingAction = (typeof BOOKING_ACTIONS)[number];

/** What booking services record; createServices injects the Prometheus implementation (http/metrics.ts). */
export interface BookingMetrics {
  recordBooking(action: BookingAction, count?: number): void;
  /** A held booking was confirmed this long after its hold was placed. */
  recordHoldToConfirm(seconds: number): void;
}

/** For services built without an app (unit tests, scripts). */
export const noBookingMetrics: BookingMetrics = { recordBooking() {}, recordHoldToConfirm() {} };
