import { builder } from './builder.js';
import './shared/shared.graphql.js';
import './auth/auth.graphql.js';
import './locations/locations.graphql.js';
import './resources/resources.graphql.js';
import './scheduling/slots.graphql.js';
import './scheduling/rules.graphql.js';
import './scheduling/generation.graphql.js';
import './scheduling/availability.graphql.js';
import './scheduling/search.graphql.js';
import './scheduling/availability-fields.graphql.js';
import './live/time.graphql.js';
import './live/slot-availability.graphql.js';
import './booking/errors.graphql.js';
import './forms/form-mutations.graphql.js';
import './forms/registration.graphql.js';

export const schema = builder.toSchema({ sortSchema: true });
