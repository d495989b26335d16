export { SlotwiseProvider, useSlotwiseClient, type SlotwiseProviderProps } from './provider.js';
export { useAvailability, type AvailabilityState, type AvailabilityStatus, type AvailabilityVariables } from './use-availability.js';
export { useHold, useBook, useConfirm, type Mutation, type MutationState } from './mutations.js';
