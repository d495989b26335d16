import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createClient, type SlotwiseClient } from '../src/index.js';
import * as documents from '../src/generated/graphql.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { as, dayFromNow, setUpScenario, type Scenario } from './scenario.js';

/** Every query and mutation document, by operation name, as generated. */
const allOperations = Object.entries(documents)
  .filter(([name]) => name.endsWith('Document') && !name.endsWith('FragmentDoc'))
  .map(([, doc]) => /\b(query|mutation|subscription) (\w+)/.exec(String(doc))!)
  .filter((m) => m[1] !== 'subscription')
  .map((m) => m[2]!);

let server: LiveServer;
let s: Scenario;
let admin: SlotwiseClient;
let anonymous: SlotwiseClient;
const ran = new Set<string>();

/** A client that records the operations it sent, to prove every document ran. */
function recordingClient(token?: string) {
  return createClient({
    url: server.url,
    token,
    fetch: (input, init) => {
      ran.add(/\b(?:query|mutation) (\w+)/.exec(JSON.parse(String(init?.body)).query)![1]!);
      return fetch(input, init);
    },
  });
}

beforeAll(async () => {
  server = await startLiveServer();
  admin = recordingClient(server.adminToken);
  anonymous = recordingClient();
  s = await setUpScenario(server, { admin });
});
afterAll(() => server?.stop());

describe('every operation against a live server', () => {
  it('users, tokens and the node interface', async () => {
    const { createUser } = await admin.request(documents.CreateUserDocument, {
      input: { email: 'frontdesk@example.com', name: 'Fran', roles: ['frontdesk'] },
    });
    const user = as(createUser, 'User');
    expect(user.roles).toEqual(['frontdesk']);
    expect((await admin.request(documents.UsersDocument)).users.map((u) => u.email)).toContain('frontdesk@example.com');

    const created = as((await admin.request(documents.CreateApiTokenDocument, { input: { name: 'ci' } })).createApiToken, 'CreatedApiToken');
    expectTypeOf(created.token).toEqualTypeOf<string>();
    const viaToken = recordingClient(created.token);
    expect((await viaToken.request(documents.MeDocument)).me?.roles).toContain('admin');
    expect((await admin.request(documents.MyApiTokensDocument)).myApiTokens.map((t) => t.id)).toContain(created.apiToken.id);
    expect(
      as((await admin.request(documents.RevokeApiTokenDocument, { id: created.apiToken.id })).revokeApiToken, 'ApiToken').revokedAt,
    ).not.toBeNull();
    expect((await anonymous.request(documents.MeDocument)).me).toBeNull();

    expect(Date.parse((await anonymous.request(documents.ServerTimeDocument)).serverTime)).toBeGreaterThan(0);
    const node = (await anonymous.request(documents.NodeDocument, { id: s.slots[0]!.id })).node;
    expect(node?.__typename === 'Slot' && node.localStart).toMatch(/^\d{2}:\d{2}$/);
    const nodes = (await admin.request(documents.NodesDocument, { ids: [s.resourceId, s.locationId] })).nodes;
    expect(nodes.map((n) => n?.__typename)).toEqual(['Resource', 'Location']);
  });

  it('locations and resources', async () => {
    expect((await anonymous.request(documents.LocationsDocument)).locations.map((l) => l.id)).toContain(s.locationId);
    const { location, slots } = as(
      (await admin.request(documents.UpdateLocationDocument, { id: s.locationId, input: { address: '1 River St' } })).updateLocation,
      'UpdateLocationPayload',
    );
    expect(location.address).toBe('1 River St');
    expect(slots.kept).toEqual([]);
    const room = as(
      (await admin.request(documents.CreateResourceDocument, { input: { locationId: s.locationId, kind: 'ROOM', name: 'Studio', exclusive: true } }))
        .createResource,
      'Resource',
    );
    expect(
      as((await admin.request(documents.UpdateResourceDocument, { id: room.id, input: { name: 'Studio A' } })).updateResource, 'Resource').name,
    ).toBe('Studio A');
    const people = as(
      (await anonymous.request(documents.ResourcesDocument, { locationId: s.locationId, kind: 'PERSON' })).resources,
      'ResourcesSuccess',
    ).data;
    expect(people.map((r) => r.id)).toEqual([s.resourceId]);

    const bad = as(
      (await admin.request(documents.CreateLocationDocument, { input: { name: 'X', timeZone: 'Mars/Olympus' } })).createLocation,
      'ValidationError',
    );
    expect(bad.fieldErrors.map((e) => e.path.join('.'))).toContain('input.timeZone');
  });

  it('rules and slot generation', async () => {
    const rules = as(
      (await admin.request(documents.AvailabilityRulesDocument, { resourceId: s.resourceId })).availabilityRules,
      'AvailabilityRulesSuccess',
    ).data;
    expect(rules).toHaveLength(1);
    const closed = as(
      (
        await admin.request(documents.CreateAvailabilityRuleDocument, {
          input: {
            resourceId: s.resourceId,
            kind: 'EXCEPTION',
            startTime: '11:00',
            endTime: '12:00',
            isClosed: true,
            validFrom: dayFromNow(30),
            validTo: dayFromNow(30),
          },
        })
      ).createAvailabilityRule,
      'AvailabilityRulePayload',
    );
    const updated = as(
      (await admin.request(documents.UpdateAvailabilityRuleDocument, { id: closed.rule.id, input: { startTime: '10:30' } })).updateAvailabilityRule,
      'AvailabilityRulePayload',
    );
    expect(updated.rule.startTime).toBe('10:30');
    const deleted = as(
      (await admin.request(documents.DeleteAvailabilityRuleDocument, { id: closed.rule.id })).deleteAvailabilityRule,
      'DeleteAvailabilityRulePayload',
    );
    expect(deleted.deletedRuleId).toBe(closed.rule.id);
    const again = as(
      (await admin.request(documents.GenerateSlotsDocument, { input: { resourceId: s.resourceId, from: dayFromNow(1), to: dayFromNow(7) } }))
        .generateSlots,
      'SlotGenerationReport',
    );
    expect(again.created).toBe(0);
  });

  it('availability reads', async () => {
    const first = s.slots[0]!;
    const dates = as(
      (await anonymous.request(documents.AvailableDatesDocument, { resourceId: s.resourceId, from: dayFromNow(1), to: dayFromNow(7) }))
        .availableDates,
      'AvailableDates',
    );
    expect(dates.timeZone).toBe('America/New_York');
    expect(dates.dates.length).toBeGreaterThan(0);
    const week = { resourceId: s.resourceId, from: `${dayFromNow(0)}T00:00:00Z`, to: `${dayFromNow(8)}T00:00:00Z` };
    const byDay = as(
      (await anonymous.request(documents.AvailabilityByDayDocument, { ...week, withSlotIds: true })).availabilityByDay,
      'AvailabilityDays',
    );
    expect(byDay.slotCount).toBe(byDay.days.reduce((n, d) => n + d.starts.length, 0));
    expect(byDay.days[0]!.slotIds).toHaveLength(byDay.days[0]!.starts.length);
    const exposed = as(
      (await anonymous.request(documents.ExposedSlotsDocument, { resourceId: s.resourceId, date: first.localDate, sessionId: 'visitor-1' }))
        .exposedSlots,
      'ExposedSlots',
    );
    expect(exposed.k).toBeGreaterThanOrEqual(1);
    const room = as(
      (await admin.request(documents.CreateResourceDocument, { input: { locationId: s.locationId, kind: 'ROOM', name: 'Hall', exclusive: true } }))
        .createResource,
      'Resource',
    );
    await admin.request(documents.CreateAvailabilityRuleDocument, {
      input: { resourceId: room.id, kind: 'WEEKLY', daysOfWeek: [1, 2, 3, 4, 5, 6, 7], startTime: '09:00', endTime: '17:00' },
    });
    const search = as(
      (
        await anonymous.request(documents.SearchAvailabilityDocument, {
          resourceId: room.id,
          from: first.startAt,
          to: new Date(Date.parse(first.startAt) + 2 * 86_400_000).toISOString(),
          durationMinutes: 60,
        })
      ).searchAvailability,
      'AvailabilitySearch',
    );
    expect(search.results[0]?.ranges.length).toBeGreaterThan(0);
    const notFound = as(
      (await anonymous.request(documents.AvailabilityDocument, { resourceId: 'UmVzb3VyY2U6bm9uZQ', from: first.startAt, to: first.endAt }))
        .availability,
      'ValidationError',
    );
    expect(notFound.code).toBeTypeOf('string');
  });

  it('bookings: hold, confirm, book, reschedule, cancel, and reading them back', async () => {
    const [a, b, c] = s.slots;
    const customer = { name: 'Grace Hopper', email: 'grace@example.com' };
    const held = as((await anonymous.request(documents.HoldDocument, { input: { slotId: a!.id, customer } })).hold, 'BookingReceipt');
    expect(held.booking.status).toBe('HELD');
    const confirmed = as(
      (await anonymous.request(documents.ConfirmDocument, { input: { bookingId: held.booking.id, manageToken: held.manageToken } })).confirm,
      'Booking',
    );
    expect(confirmed.status).toBe('CONFIRMED');

    const booked = as((await anonymous.request(documents.BookDocument, { input: { slotId: b!.id, customer } })).book, 'BookingReceipt');
    const moved = as(
      (
        await anonymous.request(documents.RescheduleBookingDocument, {
          input: { bookingId: booked.booking.id, manageToken: booked.manageToken, slotId: c!.id },
        })
      ).rescheduleBooking,
      'Booking',
    );
    expect(moved.slot?.id).toBe(c!.id);
    const read = as((await anonymous.request(documents.BookingDocument, { id: moved.id, manageToken: booked.manageToken })).booking, 'Booking');
    expect(read.customer?.email).toBe('grace@example.com');
    const updated = as(
      (
        await anonymous.request(documents.UpdateBookingDocument, {
          input: { bookingId: moved.id, manageToken: booked.manageToken, title: 'Check-up', partySize: 2 },
        })
      ).updateBooking,
      'Booking',
    );
    expect(updated).toMatchObject({ title: 'Check-up', partySize: 2, internalNotes: null });
    const cancelled = as(
      (await anonymous.request(documents.CancelBookingDocument, { input: { bookingId: moved.id, manageToken: booked.manageToken } })).cancelBooking,
      'Booking',
    );
    expect(cancelled.status).toBe('CANCELLED');

    const list = as((await admin.request(documents.BookingsDocument, { resourceId: s.resourceId, first: 10 })).bookings, 'BookingConnection');
    expect(list.totalCount).toBe(2);
    const grace = recordingClient(await server.tokenFor(['user'], 'grace@example.com'));
    const mine = as((await grace.request(documents.MyBookingsDocument, {})).myBookings, 'MyBookingsSuccess');
    expect(mine.data.map((x) => x.id).sort()).toEqual([confirmed.id, cancelled.id].sort());
  });

  it('reschedule proposals: propose, approve, decline', async () => {
    const [, , , d, e, f] = s.slots;
    const booked = as(
      (await anonymous.request(documents.BookDocument, { input: { slotId: d!.id, customer: { name: 'Ada', email: 'ada@example.com' } } })).book,
      'BookingReceipt',
    );
    const proposed = as(
      (await admin.request(documents.ProposeRescheduleDocument, { input: { bookingId: booked.booking.id, slotId: e!.id, note: 'later?' } }))
        .proposeReschedule,
      'Proposal',
    );
    expect([proposed.status, proposed.proposedBy]).toEqual(['PENDING', 'HOST']);
    const approved = as(
      (await admin.request(documents.ApproveProposalDocument, { input: { proposalId: proposed.id } })).approveProposal,
      'ProposalDecision',
    );
    expect([approved.proposal.status, approved.proposal.booking.icsSequence]).toEqual(['APPROVED', 1]);
    const again = as(
      (await admin.request(documents.ProposeRescheduleDocument, { input: { bookingId: booked.booking.id, slotId: f!.id } })).proposeReschedule,
      'Proposal',
    );
    const declined = as(
      (await admin.request(documents.DeclineProposalDocument, { input: { proposalId: again.id } })).declineProposal,
      'ProposalDecision',
    );
    expect(declined.proposal.status).toBe('DECLINED');
    const refused = as(
      (await anonymous.request(documents.ApproveProposalDocument, { input: { token: 'ml_not-a-real-token' } })).approveProposal,
      'LinkInvalidError',
    );
    expect(refused.reason).toBe('UNKNOWN');
  });

  it('forms: create, publish, slots, register, analytics, close', async () => {
    const created = as(
      (
        await admin.request(documents.CreateFormDocument, {
          input: {
            title: 'Coaching',
            slug: 'coaching',
            timeZone: 'America/New_York',
            schedule: {
              daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
              startTime: '17:00',
              endTime: '19:00',
              slotMinutes: 60,
              startDate: dayFromNow(2),
              weeks: 1,
            },
          },
        })
      ).createForm,
      'Form',
    );
    expect(as((await admin.request(documents.PublishFormDocument, { id: created.id })).publishForm, 'Form').status).toBe('PUBLISHED');
    const extra = as(
      (
        await admin.request(documents.AddFormSlotDocument, {
          formId: created.id,
          input: { date: dayFromNow(3), startTime: '20:00', endTime: '21:00' },
        })
      ).addFormSlot,
      'Slot',
    );
    expect(as((await admin.request(documents.CancelFormSlotDocument, { slotId: extra.id })).cancelFormSlot, 'Slot').status).toBe('CANCELLED');
    const later = { daysOfWeek: [1, 2, 3, 4, 5, 6, 7], startTime: '17:00', endTime: '19:00', slotMinutes: 60, startDate: dayFromNow(9), weeks: 1 };
    expect(
      as((await admin.request(documents.AddFormScheduleDocument, { formId: created.id, schedule: later })).addFormSchedule, 'AddFormScheduleSuccess')
        .data,
    ).toHaveLength(14);
    const form = (await anonymous.request(documents.FormDocument, { slug: 'coaching' })).form!;
    expect((await admin.request(documents.FormsDocument, { status: 'PUBLISHED' })).forms.map((f) => f.id)).toEqual([form.id]);
    const open = form.slots.filter((x) => x.status === 'OPEN');
    const registration = as(
      (
        await anonymous.request(documents.RegisterDocument, {
          input: { formSlug: 'coaching', name: 'Ann', email: 'ann@example.com', slotIds: [open[0]!.id] },
        })
      ).register,
      'Registration',
    );
    expect(registration.slotLabels).toHaveLength(1);
    const stats = as((await admin.request(documents.FormAnalyticsDocument, { formId: form.id })).formAnalytics, 'FormAnalytics');
    expect(stats.registrations).toBe(1);
    const insight = as(
      (await admin.request(documents.FormInsightsDocument, { formId: form.id, question: 'how full is it?' })).formInsights,
      'FormInsight',
    );
    expect(insight).toMatchObject({ intent: 'FULLNESS', seatsBooked: stats.seatsBooked, capacity: stats.capacity });
    const fromText = as(
      (
        await admin.request(documents.CreateFormFromTextDocument, {
          input: { text: 'Chess club, Mon/Wed 5-9pm, 1h slots, next 2 weeks, Eastern', dryRun: true },
        })
      ).createFormFromText,
      'FormFromText',
    );
    expect(fromText).toMatchObject({ dryRun: true, timeZone: 'America/New_York', form: null });
    expect(fromText.slots).toHaveLength(fromText.slotCount);
    expect(as((await admin.request(documents.CloseFormDocument, { id: form.id })).closeForm, 'Form').status).toBe('CLOSED');
  });

  it('outbox: the staff view lists mail and refuses to retry an unknown message', async () => {
    const listed = (await admin.request(documents.OutboxMessagesDocument, { status: 'FAILED', first: 10 })).outboxMessages;
    expect(listed.edges.every((e) => e.node.status === 'FAILED')).toBe(true);
    const unknown = (await admin.request(documents.RetryOutboxMessageDocument, { id: btoa('OutboxMessage:00000000-0000-7000-8000-000000000000') }))
      .retryOutboxMessage;
    expect(as(unknown, 'NotFoundError').entity).toBe('OutboxMessage');
  });

  it('sessions: a host with an email opens a 60-minute session slot', async () => {
    const host = as(
      (
        await admin.request(documents.CreateResourceDocument, {
          input: { locationId: s.locationId, kind: 'PERSON', name: 'Dr. Host', email: 'host@example.com' },
        })
      ).createResource,
      'Resource',
    );
    const startAt = `${dayFromNow(3)}T20:00:00.000Z`;
    const session = as(
      (await admin.request(documents.CreateSessionDocument, { input: { resourceId: host.id, startAt, durationMinutes: 60 } })).createSession,
      'Slot',
    );
    expect(session).toMatchObject({ startAt, durationMinutes: 60, capacity: 1, isSession: true });
    const refused = as(
      (await admin.request(documents.CreateSessionDocument, { input: { resourceId: host.id, startAt, durationMinutes: 45 } })).createSession,
      'ValidationError',
    );
    expect(refused.fieldErrors.map((e) => e.path)).toEqual([['input', 'durationMinutes']]);
  });

  it('sign-in: request a code, a wrong code, an unknown refresh token, sign out with it', async () => {
    expect(
      as((await anonymous.request(documents.RequestSignInDocument, { input: { email: 'ops@example.com' } })).requestSignIn, 'SignInRequested')
        .expiresAt,
    ).toBeTruthy();
    const wrong = (await anonymous.request(documents.CompleteSignInDocument, { input: { email: 'ops@example.com', code: '000000' } })).completeSignIn;
    expect(['INVALID', 'USED']).toContain(as(wrong, 'SignInInvalidError').reason);
    expect(
      as(
        (await anonymous.request(documents.RefreshSessionDocument, { input: { refreshToken: 'rt_unknown' } })).refreshSession,
        'RefreshTokenInvalidError',
      ).reason,
    ).toBe('UNKNOWN');
    const signOut = (await anonymous.request(documents.SignOutDocument, { input: { refreshToken: 'rt_unknown' } })).signOut;
    expect(as(signOut, 'ValidationError').fieldErrors.map((e) => e.path)).toEqual([['input', 'refreshToken']]);
  });

  it('waitlist and webhook documents', async () => {
    const unknown = (type: string) => Buffer.from(`${type}:01890000-0000-7000-8000-000000000000`).toString('base64');
    const joined = (
      await anonymous.request(documents.JoinWaitlistDocument, {
        input: { slotId: s.slots[1]!.id, customer: { name: 'Wait', email: 'wait@example.com' } },
      })
    ).joinWaitlist;
    expect(['SlotNotFullError', 'JoinedWaitlist']).toContain(joined.__typename);
    expect((await anonymous.request(documents.LeaveWaitlistDocument, { input: { leaveToken: 'wl_unknown' } })).leaveWaitlist.__typename).toBe(
      'NotFoundError',
    );
    expect((await admin.request(documents.WaitlistDocument, { resourceId: s.resourceId })).waitlist.__typename).toBe('WaitlistSuccess');
    expect((await admin.request(documents.WebhooksDocument, {})).webhooks.totalCount).toBeGreaterThanOrEqual(0);
    expect((await admin.request(documents.WebhookDeliveriesDocument, {})).webhookDeliveries.__typename).toBe('WebhookDeliveryConnection');
    // Loopback is refused (SSRF) unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.
    expect(
      (await admin.request(documents.CreateWebhookDocument, { input: { url: 'http://127.0.0.1:9/hook', events: ['booking.confirmed'] } }))
        .createWebhook.__typename,
    ).toBe('ValidationError');
    const missing = ['NotFoundError', 'ValidationError'];
    expect(missing).toContain(
      (await admin.request(documents.UpdateWebhookDocument, { input: { id: unknown('WebhookEndpoint'), enabled: false } })).updateWebhook.__typename,
    );
    expect(missing).toContain(
      (await admin.request(documents.RotateWebhookSecretDocument, { id: unknown('WebhookEndpoint') })).rotateWebhookSecret.__typename,
    );
    expect(missing).toContain((await admin.request(documents.DeleteWebhookDocument, { id: unknown('WebhookEndpoint') })).deleteWebhook.__typename);
    expect(missing).toContain(
      (await admin.request(documents.ReplayWebhookDeliveryDocument, { id: unknown('WebhookDelivery') })).replayWebhookDelivery.__typename,
    );
  });

  it('ran every query and mutation document', () => {
    expect(allOperations.length).toBeGreaterThan(40);
    expect(allOperations.filter((name) => !ran.has(name))).toEqual([]);
  });
});
