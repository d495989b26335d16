/** What one widget shows: a resource's slots, or a form's. */
export type Scope = { resourceId: string } | { formId: string };
