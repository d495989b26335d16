import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL from the npm package's bundled assets (HTML, CSS, JS and editor workers inline): it renders with no
 * internet access, unlike Yoga's default page, which loads them from a CDN.
 */
export { renderGraphiQL };

export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'Slotwise',
  defaultQuery: `# Welcome to Slotwise. Put the cursor in an operation and press Ctrl+Enter (or the Run button).
#
# Anyone may read locations and availability. Staff operations need a token: the first embedded start
# prints the demo admin's API token once in the log. Open "Headers" below and send it as
#   { "Authorization": "Bearer sw_..." }
# Variables go in "Variables", e.g. for Availability (a week; use today's date):
#   { "resourceId": "<a resource id from Locations>", "from": "2026-12-01T00:00:00Z", "to": "2026-12-08T00:00:00Z" }

query Locations {
  locations {
    id
    name
    timeZone
    resources { id kind name capacity exclusive }
  }
}

query Availability($resourceId: ID!, $from: DateTime!, $to: DateTime!) {
  availability(resourceId: $resourceId, from: $from, to: $to) {
    __typename
    ... on Availability { timeZone slots { id localDate localStart localEnd remaining } }
    ... on Error { code message }
  }
}

mutation Hold($slotId: ID!) {
  hold(input: { slotId: $slotId, customer: { name: "Ada Lovelace", email: "ada@example.com" } }) {
    __typename
    ... on BookingReceipt { manageToken booking { id status } }
    ... on Error { code message }
  }
}

subscription Clock {
  serverTime(intervalMs: 1000)
}
`,
  subscriptionsProtocol: 'WS',
};
