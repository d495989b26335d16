import type { Slotwise } from './app.js';
import { manageRoute } from './calendar/manage-route.js';
import { inboundMailRoutes } from './imip/inbound-route.js';
import { formPageRoute } from './forms/form-route.js';
import { newFormPageRoute } from './forms/text/new-form-route.js';
import { proposalRoutes } from './proposals/proposal-route.js';
import { widgetRoutes } from './widget/widget-route.js';
import { jwksRoute } from './auth/jwks-route.js';
import { waitlistRoute } from './waitlist/waitlist-route.js';

/** Every HTTP route besides /graphql and the health endpoints: main.ts and test server processes serve the same. */
export function appRoutes(app: Slotwise) {
  return [
    formPageRoute(app),
    manageRoute(app),
    widgetRoutes(app),
    newFormPageRoute(app),
    proposalRoutes(app),
    inboundMailRoutes(app),
    jwksRoute(app),
    waitlistRoute(app),
  ];
}
