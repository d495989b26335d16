export type IcsMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH' | 'REPLY' | 'COUNTER' | 'DECLINECOUNTER';

/** A rendered mail, exactly as the delivery worker will send it. */
export interface MailContent {
  subject: string;
  text: string;
  html?: string;
  /** The calendar part (`text/calendar; method=<M>`), also attached as invite.ics. */
  calendar?: { method: IcsMethod; ics: string };
}
